package org.jbhyve.config;

import java.util.List;
import java.util.Locale;

/**
 * Turns an {@code -l lpcdev[,conf]} argument into tree nodes exactly as
 * bhyve's {@code lpc_device_parse()} does. Device names are case-insensitive.
 *
 * <pre>
 * comN,backend                     lpc.comN.path=backend      (N = 1..4; the rest of the argument, commas included)
 * bootrom,romfile[,varsfile][,k=v] lpc.bootrom=romfile, lpc.bootvars=varsfile, lpc.k=v
 * pc-testdev                       lpc.pc-testdev=true
 * fwcfg,bhyve|qemu                 lpc.fwcfg=bhyve|qemu
 * </pre>
 */
public final class LegacyLpcParser {

    /** A device accepted by {@code -l}, with a line for {@code -l help}. */
    public record Device(String name, String description) {
    }

    /** Every device {@code -l} accepts, in {@code -l help} order. */
    public static final List<Device> DEVICES = List.of(
            new Device("com1", "16550 serial port at 0x3f8, IRQ 4: stdio|/dev/path|tcp=ip:port"),
            new Device("com2", "16550 serial port at 0x2f8, IRQ 3: stdio|/dev/path|tcp=ip:port"),
            new Device("com3", "16550 serial port at 0x3e8, IRQ 4: stdio|/dev/path|tcp=ip:port"),
            new Device("com4", "16550 serial port at 0x2e8, IRQ 3: stdio|/dev/path|tcp=ip:port"),
            new Device("bootrom", "boot firmware ending at 4 GiB: romfile[,varsfile] (SeaBIOS, OVMF)"),
            new Device("pc-testdev", "debug/test device (port 0xf4 exit, IRQ and I/O tests)"),
            new Device("fwcfg", "firmware configuration interface: qemu (default, QEMU's fw_cfg) or bhyve (none)"));

    /** The {@code lpc} node every {@code -l} setting goes under. */
    public static final String NODE = "lpc";

    private LegacyLpcParser() {
    }

    /**
     * Adds the LPC device described by one {@code -l} argument to {@code tree}.
     *
     * @throws ConfigException quoting the argument if the device is unknown or
     *     its configuration missing or invalid
     */
    public static void parse(ConfigTree tree, String arg) {
        int comma = arg.indexOf(',');
        String dev = (comma < 0 ? arg : arg.substring(0, comma)).toLowerCase(Locale.ROOT);
        String rest = comma < 0 ? null : arg.substring(comma + 1);
        switch (dev) {
            case "com1", "com2", "com3", "com4" -> {
                if (rest == null || rest.isEmpty()) {
                    throw new ConfigException("invalid lpc device configuration '" + arg + "': " + dev
                            + " needs a backend (stdio, a tty path or tcp=ip:port)");
                }
                tree.set(NODE + "." + dev + ".path", rest);
            }
            case "bootrom" -> parseBootrom(tree, arg, rest);
            case "pc-testdev" -> {
                if (rest != null) {
                    throw new ConfigException("invalid lpc device configuration '" + arg
                            + "': pc-testdev takes no options");
                }
                tree.setBoolean(NODE + ".pc-testdev", true);
            }
            case "fwcfg" -> {
                if (!"bhyve".equals(rest) && !"qemu".equals(rest)) {
                    throw new ConfigException("invalid lpc device configuration '" + arg
                            + "': fwcfg is bhyve or qemu");
                }
                tree.set(NODE + ".fwcfg", rest);
            }
            default -> throw new ConfigException("invalid lpc device configuration '" + arg
                    + "' (-l help lists the devices)");
        }
    }

    private static void parseBootrom(ConfigTree tree, String arg, String rest) {
        if (rest == null || rest.isEmpty() || rest.startsWith(",")) {
            throw new ConfigException("invalid bootrom option \"" + arg + "\": bootrom,romfile[,varsfile]");
        }
        int comma = rest.indexOf(',');
        tree.set(NODE + ".bootrom", comma < 0 ? rest : rest.substring(0, comma));
        if (comma < 0) {
            return;
        }
        String more = rest.substring(comma + 1);
        int comma2 = more.indexOf(',');
        String varsfile = comma2 < 0 ? more : more.substring(0, comma2);
        if (!varsfile.isEmpty() && varsfile.indexOf('=') < 0) {
            tree.set(NODE + ".bootvars", varsfile);
            more = comma2 < 0 ? null : more.substring(comma2 + 1);
        }
        LegacySlotParser.parseGeneric(tree, NODE, more);
    }
}
