package org.jbhyve.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jbhyve.text.Chars;

/**
 * Turns a {@code -s slot,emulation[,conf]} argument into tree nodes exactly as
 * bhyve's {@code pci_parse_slot()} and the emulations' legacy parsers do.
 *
 * <p>The slot is {@code pcislot[:function]} or {@code bus:pcislot:function}
 * (slot 0-31, function 0-7, bus 0-255, decimal). The result lives under
 * {@code pci.<bus>.<slot>.<func>}: {@code device} holds the model (an alias
 * such as {@code ahci-hd} is stored as the model it configures, {@code ahci}),
 * and {@code conf} is turned into keys by the emulation's parser:
 *
 * <pre>
 * generic (hostbridge lpc virtio-rnd fbuf hda)   k=v -> k=v, word -> word=true
 * virtio-blk                                     path[,generic...]
 * ahci-hd / ahci-cd                              port.0.type=hd|cd, port.0.path=path[,generic...]
 * ahci                                           hd:p1[,opts],cd:p2[,opts]... -> port.N.{type,path,opts}
 * nvme                                           ram=MiB | path, then generic
 * virtio-scsi                                    dev[,generic...]
 * virtio-net, e1000                              backend[,generic...] (or all generic if the first has '=')
 * uart                                           path=whole conf
 * virtio-console                                 name=path,... -> port.N.name, port.N.path (N < 16)
 * virtio-9p                                      sharename=path -> sharename, path; words -> word=true
 * passthru                                       bus/slot/func | pciB:S:F | pci0:B:S:F | pptN -> bus, slot, func | pptdev
 * xhci                                           dev[=opt],... -> slot.N.device (N from 1), opt generic
 * amd_hostbridge                                 device=hostbridge, vendor=0x1022, devid=0x7432
 * </pre>
 */
public final class LegacySlotParser {

    /** An emulation name accepted by {@code -s}, with a line for {@code -s help}. */
    public record Emulation(String name, String description) {
    }

    /** Every emulation {@code -s} accepts, in {@code -s help} order. */
    public static final List<Emulation> EMULATIONS = List.of(
            new Emulation("hostbridge", "PCI host bridge; usually in slot 0"),
            new Emulation("amd_hostbridge", "the same host bridge with AMD's PCI vendor id"),
            new Emulation("lpc", "LPC PCI-ISA bridge: COM1-COM4, boot ROM, pc-testdev (see -l); bus 0 only"),
            new Emulation("virtio-blk", "Virtio block storage: path[,ro][,nocache][,direct][,sectorsize=l[/p]]"
                    + "[,nodelete][,nolock][,ser=S][,bootindex=N]"),
            new Emulation("virtio-net", "Virtio network interface: tapN|vmnetN[,mac=xx:xx:xx:xx:xx:xx][,mtu=N]"
                    + "[,bootindex=N]"),
            new Emulation("virtio-rnd", "Virtio entropy source (RNG)"),
            new Emulation("virtio-console", "Virtio console: name=/path/to/sock[,name2=/path2...], up to 16 ports"),
            new Emulation("virtio-9p", "Virtio 9p (VirtFS) share: sharename=/host/path[,ro]"),
            new Emulation("virtio-scsi", "Virtio SCSI disk: path[,ro][,nocache][,direct][,sectorsize=l[/p]]"
                    + "[,nodelete][,nolock][,ser=S][,lunN=path][,bootindex=N]"),
            new Emulation("ahci", "AHCI SATA controller: hd:path|cd:path[,options][,hd:path...], up to 32 ports;"
                    + " options as ahci-hd's and the block options"),
            new Emulation("ahci-hd", "AHCI SATA controller with one hard disk: path[,nmrr=N][,ser=S][,rev=R][,model=M]"
                    + "[,ro][,nocache][,direct][,sectorsize=l[/p]][,nodelete][,nolock][,bootindex=N]"),
            new Emulation("ahci-cd", "AHCI SATA controller with one ATAPI CD/DVD (read-only): path[,ser=S][,rev=R]"
                    + "[,model=M][,bootindex=N]"),
            new Emulation("nvme", "NVM Express controller: path|ram=MiB[,maxq=N][,qsz=N][,ioslots=N]"
                    + "[,sectsz=512|4096|8192][,ser=S][,eui64=N][,dsm=auto|enable|disable][,ro][,nocache][,nolock]"
                    + "[,bootindex=N]"),
            new Emulation("e1000", "Intel 82545 network interface: tapN|vmnetN[,mac=xx:xx:xx:xx:xx:xx][,mtu=N]"
                    + "[,bootindex=N]"),
            new Emulation("uart", "PCI 16550 serial port: stdio|/dev/path|tcp=ip:port"),
            new Emulation("fbuf", "framebuffer over VNC: [rfb=|tcp=][IP:]port[,w=W][,h=H][,vga=io|on|off][,wait]"
                    + "[,password=P]"),
            new Emulation("xhci", "xHCI USB 3 controller: tablet"),
            new Emulation("hda", "Intel High Definition Audio controller: [play=dev][,rec=dev]"),
            new Emulation("passthru", "host PCI device passthrough (VFIO): bus/slot/function"));

    static final int MAX_BUS = 255;
    static final int MAX_SLOT = 31;
    static final int MAX_FUNC = 7;
    static final int AHCI_MAX_PORTS = 32;
    static final int VTCON_MAX_PORTS = 16;

    /** How one emulation's {@code conf} becomes keys below the device node. */
    @FunctionalInterface
    private interface ConfParser {
        void parse(ConfigTree tree, String node, String conf);
    }

    /** The model name stored in {@code device} and the parser of an emulation. */
    private record Spec(String device, ConfParser parser) {
    }

    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        for (String generic : List.of("hostbridge", "lpc", "virtio-rnd", "fbuf", "hda")) {
            SPECS.put(generic, new Spec(generic, LegacySlotParser::parseGeneric));
        }
        SPECS.put("amd_hostbridge", new Spec("hostbridge", (t, n, c) -> {
            t.set(n + ".vendor", "0x1022"); // AMD
            t.set(n + ".devid", "0x7432"); // made up, as bhyve's
        }));
        SPECS.put("virtio-blk", new Spec("virtio-blk", (t, n, c) -> firstThenGeneric(t, n, "path", c)));
        SPECS.put("virtio-scsi", new Spec("virtio-scsi", (t, n, c) -> firstThenGeneric(t, n, "dev", c)));
        SPECS.put("nvme", new Spec("nvme", LegacySlotParser::parseNvme));
        SPECS.put("ahci", new Spec("ahci", LegacySlotParser::parseAhci));
        SPECS.put("ahci-hd", new Spec("ahci", (t, n, c) -> ahciPort(t, n, 0, "hd", c)));
        SPECS.put("ahci-cd", new Spec("ahci", (t, n, c) -> ahciPort(t, n, 0, "cd", c)));
        SPECS.put("virtio-net", new Spec("virtio-net", LegacySlotParser::parseNet));
        SPECS.put("e1000", new Spec("e1000", LegacySlotParser::parseNet));
        SPECS.put("uart", new Spec("uart", (t, n, c) -> {
            if (c != null) {
                t.set(n + ".path", c);
            }
        }));
        SPECS.put("virtio-console", new Spec("virtio-console", LegacySlotParser::parseConsole));
        SPECS.put("virtio-9p", new Spec("virtio-9p", LegacySlotParser::parse9p));
        SPECS.put("passthru", new Spec("passthru", LegacySlotParser::parsePassthru));
        SPECS.put("xhci", new Spec("xhci", LegacySlotParser::parseXhci));
        if (!SPECS.keySet().equals(EMULATIONS.stream().map(Emulation::name)
                .collect(java.util.stream.Collectors.toSet()))) {
            throw new IllegalStateException("emulation table and help list disagree");
        }
    }

    private LegacySlotParser() {
    }

    /** The tree node of a PCI function: {@code pci.<bus>.<slot>.<func>}, decimal, no leading zeroes. */
    public static String nodeName(int bus, int slot, int func) {
        return "pci." + bus + "." + slot + "." + func;
    }

    /** Whether {@code -s} knows the emulation {@code name}. */
    public static boolean isEmulation(String name) {
        return SPECS.containsKey(name);
    }

    /**
     * The model an emulation name configures, as stored in the node's {@code device} key
     * ({@code ahci-hd} and {@code ahci-cd} are {@code ahci}, {@code amd_hostbridge} is
     * {@code hostbridge}); null for a name {@code -s} does not know.
     */
    public static String deviceFor(String emulation) {
        Spec spec = SPECS.get(emulation);
        return spec == null ? null : spec.device();
    }

    /**
     * Adds the device described by one {@code -s} argument to {@code tree}.
     *
     * @throws ConfigException quoting the argument if the slot is malformed
     *     or out of range, the emulation unknown, the slot already taken or
     *     the emulation's options invalid
     */
    public static void parse(ConfigTree tree, String arg) {
        int comma = arg.indexOf(',');
        if (comma < 0) {
            throw new ConfigException("invalid PCI slot \"" + arg + "\": expected slot,emulation[,conf]");
        }
        String[] loc = arg.substring(0, comma).split(":", -1);
        if (loc.length > 3) {
            throw new ConfigException("invalid PCI slot \"" + arg + "\": expected slot[:function] or bus:slot:function");
        }
        int bus = loc.length == 3 ? number(arg, "bus", loc[0], MAX_BUS) : 0;
        int slot = number(arg, "slot", loc[loc.length == 3 ? 1 : 0], MAX_SLOT);
        int func = loc.length == 1 ? 0 : number(arg, "function", loc[loc.length - 1], MAX_FUNC);

        String rest = arg.substring(comma + 1);
        int comma2 = rest.indexOf(',');
        String emulation = comma2 < 0 ? rest : rest.substring(0, comma2);
        String conf = comma2 < 0 ? null : rest.substring(comma2 + 1);
        String where = bus + ":" + slot + ":" + func;
        Spec spec = SPECS.get(emulation);
        if (spec == null) {
            throw new ConfigException("pci slot " + where + ": unknown device \"" + emulation
                    + "\" (-s help lists the emulations)");
        }
        String node = nodeName(bus, slot, func);
        if (tree.has(node)) {
            throw new ConfigException("pci slot " + where + " already occupied");
        }
        if (spec.device().equals("lpc") && bus != 0) {
            throw new ConfigException("pci slot " + where + ": the LPC bridge can be present only on bus 0");
        }
        tree.set(node + ".device", spec.device());
        spec.parser().parse(tree, node, conf);
    }

    private static int number(String arg, String what, String text, int max) {
        if (text.isEmpty() || text.length() > 3 || !Chars.all(text, Chars::decimalDigit)) {
            throw new ConfigException("invalid PCI slot \"" + arg + "\": " + what + " \"" + text
                    + "\" is not a decimal number");
        }
        int v = Integer.parseInt(text);
        if (v > max) {
            throw new ConfigException("invalid PCI slot \"" + arg + "\": " + what + " " + v
                    + " is out of range 0-" + max);
        }
        return v;
    }

    /**
     * bhyve's {@code pci_parse_legacy_config()}: comma-separated options, each
     * {@code name=value} or a bare {@code name} meaning {@code name=true}. Empty
     * options ({@code a,,b}) are skipped.
     */
    static void parseGeneric(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        for (String opt : conf.split(",", -1)) {
            if (opt.isEmpty()) {
                continue;
            }
            int eq = opt.indexOf('=');
            String name = eq < 0 ? opt : opt.substring(0, eq);
            if (name.isEmpty() || name.indexOf('.') >= 0) {
                throw new ConfigException("invalid option name \"" + name + "\" in \"" + conf + "\"");
            }
            tree.set(node + "." + name, eq < 0 ? "true" : opt.substring(eq + 1));
        }
    }

    /** The first option is the value of {@code key} (a path, a device); the rest are generic. */
    private static void firstThenGeneric(ConfigTree tree, String node, String key, String conf) {
        if (conf == null) {
            return;
        }
        int comma = conf.indexOf(',');
        tree.set(node + "." + key, comma < 0 ? conf : conf.substring(0, comma));
        if (comma >= 0) {
            parseGeneric(tree, node, conf.substring(comma + 1));
        }
    }

    private static void parseNet(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        int comma = conf.indexOf(',');
        int eq = conf.indexOf('=');
        if (eq >= 0 && (comma < 0 || eq < comma)) {
            parseGeneric(tree, node, conf); // backend=...,mac=...: all options
        } else {
            firstThenGeneric(tree, node, "backend", conf);
        }
    }

    private static void parseNvme(ConfigTree tree, String node, String conf) {
        if (conf != null && conf.startsWith("ram=")) {
            int comma = conf.indexOf(',');
            tree.set(node + ".ram", comma < 0 ? conf.substring(4) : conf.substring(4, comma));
            if (comma >= 0) {
                parseGeneric(tree, node, conf.substring(comma + 1));
            }
        } else {
            firstThenGeneric(tree, node, "path", conf);
        }
    }

    private static void ahciPort(ConfigTree tree, String node, int port, String type, String conf) {
        String portNode = node + ".port." + port;
        tree.set(portNode + ".type", type);
        firstThenGeneric(tree, portNode, "path", conf);
    }

    /** {@code hd:path[,opts],cd:path[,opts]...}: a port per item, options up to the next item. */
    private static void parseAhci(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        String str = conf;
        for (int port = 0; str != null; port++) {
            String type = str.startsWith("hd:") ? "hd" : str.startsWith("cd:") ? "cd" : null;
            if (type != null) {
                str = str.substring(3);
            }
            int hd = str.indexOf(",hd:");
            int cd = str.indexOf(",cd:");
            int next = hd < 0 ? cd : cd < 0 ? hd : Math.min(hd, cd);
            String item = next < 0 ? str : str.substring(0, next);
            str = next < 0 ? null : str.substring(next + 1);
            if (item.isEmpty()) {
                continue;
            }
            if (type == null) {
                throw new ConfigException("ahci: missing or invalid type for port " + port + ": \"" + item
                        + "\" (expected hd:path or cd:path)");
            }
            if (port >= AHCI_MAX_PORTS) {
                throw new ConfigException("ahci: too many ports (at most " + AHCI_MAX_PORTS + ")");
            }
            ahciPort(tree, node, port, type, item);
        }
    }

    private static void parseConsole(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        int port = 0;
        for (String opt : conf.split(",", -1)) {
            int eq = opt.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("virtio-console: port \"" + opt + "\" must be name=path");
            }
            if (port >= VTCON_MAX_PORTS) {
                throw new ConfigException("virtio-console: too many ports (at most " + VTCON_MAX_PORTS + ")");
            }
            tree.set(node + ".port." + port + ".name", opt.substring(0, eq));
            tree.set(node + ".port." + port + ".path", opt.substring(eq + 1));
            port++;
        }
    }

    private static void parse9p(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        boolean shared = false;
        for (String opt : conf.split(",", -1)) {
            int eq = opt.indexOf('=');
            if (eq >= 0) {
                if (shared) {
                    throw new ConfigException("virtio-9p: more than one share name given in \"" + conf + "\"");
                }
                shared = true;
                tree.set(node + ".sharename", opt.substring(0, eq));
                tree.set(node + ".path", opt.substring(eq + 1));
            } else if (!opt.isEmpty()) {
                parseGeneric(tree, node, opt);
            }
        }
    }

    private static final List<Pattern> PASSTHRU_SELECTORS = List.of(
            Pattern.compile("pci0:(\\d{1,3}):(\\d{1,3}):(\\d{1,3})"),
            Pattern.compile("pci(\\d{1,3}):(\\d{1,3}):(\\d{1,3})"),
            Pattern.compile("(\\d{1,3})/(\\d{1,3})/(\\d{1,3})"));

    private static void parsePassthru(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        int comma = conf.indexOf(',');
        String sel = comma < 0 ? conf : conf.substring(0, comma);
        if (sel.startsWith("ppt")) {
            tree.set(node + ".pptdev", sel);
        } else {
            Matcher m = PASSTHRU_SELECTORS.stream().map(p -> p.matcher(sel)).filter(Matcher::matches)
                    .findFirst().orElseThrow(() -> new ConfigException("passthru: invalid options \"" + conf
                            + "\" (expected bus/slot/function)"));
            int[] max = {MAX_BUS, MAX_SLOT, MAX_FUNC};
            String[] keys = {"bus", "slot", "func"};
            for (int i = 0; i < 3; i++) {
                int v = Integer.parseInt(m.group(i + 1));
                if (v > max[i]) {
                    throw new ConfigException("passthru: host " + keys[i] + " " + v + " out of range 0-" + max[i]
                            + " in \"" + sel + "\"");
                }
                tree.set(node + "." + keys[i], Integer.toString(v));
            }
        }
        if (comma >= 0) {
            parseGeneric(tree, node, conf.substring(comma + 1));
        }
    }

    /** {@code dev[=option],...}: USB devices in controller slots 1, 2, ... */
    private static void parseXhci(ConfigTree tree, String node, String conf) {
        if (conf == null) {
            return;
        }
        int slot = 1;
        for (String opt : conf.split(",", -1)) {
            int eq = opt.indexOf('=');
            String dev = eq < 0 ? opt : opt.substring(0, eq);
            if (dev.isEmpty()) {
                throw new ConfigException("xhci: empty USB device name in \"" + conf + "\"");
            }
            String slotNode = node + ".slot." + slot++;
            tree.set(slotNode + ".device", dev);
            if (eq >= 0 && eq + 1 < opt.length()) {
                parseGeneric(tree, slotNode, opt.substring(eq + 1));
            }
        }
    }
}
