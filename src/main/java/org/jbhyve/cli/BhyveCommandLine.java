package org.jbhyve.cli;

import java.util.List;
import java.util.Optional;

import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.LegacyLpcParser;
import org.jbhyve.config.LegacySlotParser;
import org.jbhyve.config.Topology;

/**
 * bhyve's command line, {@code bhyve [options] vmname}, turned into a settings
 * tree with current bhyve's bhyve_config(5) keys.
 *
 * <p>Parsing follows getopt(3) with bhyve's option string: short options may
 * be clustered ({@code -AHP}), a value may be attached ({@code -c2}) or follow
 * ({@code -m 1G}), options stop at the first operand or {@code --}, and exactly
 * one operand, the VM name, may follow. Options take effect in command-line
 * order, so a later {@code -o key=value} overrides an earlier option and the
 * other way round; {@code -k file} is applied where it stands. {@code -h},
 * {@code -s help} and {@code -l help} stop there, as in bhyve.
 *
 * <p>Option to key (a key absent from the tree keeps its default):
 * <pre>
 * -a                 x86.x2apic=false           -A        acpi_tables=true
 * -c [[cpus=]n][,sockets=n][,cores=n][,threads=n]   cpus, sockets, cores, threads (as given)
 * -C                 memory.guest_in_core=true  -D        destroy_on_poweroff=true
 * -e                 x86.strictio=true          -H        x86.vmexit_on_hlt=true
 * -G [w][addr:]port  gdb.wait=true, gdb.address, gdb.port
 * -k file            each key=value line        -o k=v    k=v
 * -l lpcdev[,conf]   lpc.* (LegacyLpcParser)    -s ...    pci.B.S.F.* (LegacySlotParser)
 * -m size            memory.size=size           -p v:h    vcpu.v.cpuset=h[,h2...]
 * -P                 x86.vmexit_on_pause=true   -r file   restore=file
 * -S                 memory.wired=true          -u        rtc.use_localtime=false
 * -U uuid            uuid=uuid                  -w        x86.strictmsr=false
 * -W                 virtio_msix=false          -x        x86.x2apic=true
 * -Y                 x86.mptable=false          vmname    name=vmname
 * </pre>
 *
 * <p>{@link Getopt} does the tokenizing (getopt(3): clusters, attached values,
 * {@code --}); the options are then applied here in command-line order, because
 * bhyve's semantics (a later {@code -o} overrides an earlier option, {@code -k}
 * applies where it stands, {@code -h} stops at once) depend on that order.
 * Every error is a one-line {@link ConfigException}; nothing is printed here.
 */
public final class BhyveCommandLine {

    /** The program name used in usage text. */
    public static final String PROGRAM = "bhyve";

    /**
     * Longest VM name: bhyve's VM_MAX_NAMELEN is 32 bytes with the NUL on
     * FreeBSD 13 and 14 (the seeds' version), so 31 characters. FreeBSD 15
     * allows longer names; a name valid here is valid on every bhyve.
     */
    public static final int MAX_NAME_LENGTH = 31;

    /** Host CPUs a vCPU may be pinned to: 0 to CPU_SETSIZE - 1, as bhyve checks. */
    public static final int CPU_SETSIZE = 1024;


    /** Keys the options write as booleans; a bad spelling set through -o or -k is caught at once. */
    static final List<String> BOOLEAN_KEYS = List.of("acpi_tables", "destroy_on_poweroff",
            "memory.guest_in_core", "memory.wired", "rtc.use_localtime", "virtio_msix", "gdb.wait",
            "x86.x2apic", "x86.strictio", "x86.strictmsr", "x86.vmexit_on_hlt", "x86.vmexit_on_pause",
            "x86.mptable", "lpc.pc-testdev", "config.dump", "security.seccomp");

    /** bhyve's getopt(3) option string: flags, then the options that take a value. */
    private static final String OPTSTRING = "aACDehHPSuwWxYc:G:k:l:m:o:p:r:s:U:";

    private BhyveCommandLine() {
    }

    /**
     * Parses a bhyve command line (without the program name).
     *
     * @throws ConfigException with a one-line message on any error
     */
    public static ParsedCommand parse(String... argv) {
        Getopt scanned = Getopt.parse(OPTSTRING, argv);
        ConfigTree tree = new ConfigTree();
        for (Getopt.Option option : scanned.options()) {
            ParsedCommand stop = apply(tree, option.letter(), option.value());
            if (stop != null) {
                return stop;
            }
        }
        if (scanned.error() != null) {
            throw new ConfigException(describe(scanned.error()));
        }
        return finish(tree, scanned.operands());
    }

    /** getopt's words, what the value should be when it is missing, and where to look. */
    private static String describe(Getopt.Error error) {
        String value = !error.missingValue() ? "" : switch (error.letter()) {
            case 'c' -> " <topology>";
            case 'G' -> " <[w][addr:]port>";
            case 'k', 'r' -> " <file>";
            case 'l' -> " <lpcdev[,conf]>";
            case 'm' -> " <size>";
            case 'o' -> " <key=value>";
            case 'p' -> " <vcpu:hostcpu>";
            case 's' -> " <slot,emulation[,conf]>";
            case 'U' -> " <uuid>";
            default -> "";
        };
        return error.message() + value + " (" + PROGRAM + " -h lists the options)";
    }

    /** Applies one option; returns a help result when the option asks for one. */
    private static ParsedCommand apply(ConfigTree tree, char option, String v) {
        switch (option) {
            case 'a' -> tree.setBoolean("x86.x2apic", false);
            case 'A' -> tree.setBoolean("acpi_tables", true);
            case 'c' -> OptionValues.parseTopology(tree, v);
            case 'C' -> tree.setBoolean("memory.guest_in_core", true);
            case 'D' -> tree.setBoolean("destroy_on_poweroff", true);
            case 'e' -> tree.setBoolean("x86.strictio", true);
            case 'G' -> OptionValues.parseGdb(tree, v);
            case 'h' -> {
                return new ParsedCommand.Help(Usage.usage(PROGRAM));
            }
            case 'H' -> tree.setBoolean("x86.vmexit_on_hlt", true);
            case 'k' -> OptionValues.readConfigFile(tree, v);
            case 'l' -> {
                if (isHelp(v)) {
                    return new ParsedCommand.LpcHelp(Usage.lpcHelp());
                }
                LegacyLpcParser.parse(tree, v);
            }
            case 'm' -> tree.set("memory.size", v);
            case 'o' -> {
                if (!OptionValues.setOption(tree, v)) {
                    throw new ConfigException("invalid configuration option '" + v + "' (expected key=value)");
                }
            }
            case 'p' -> OptionValues.pinVcpu(tree, v);
            case 'P' -> tree.setBoolean("x86.vmexit_on_pause", true);
            case 'r' -> tree.set("restore", v);
            case 's' -> {
                if (isHelp(v)) {
                    return new ParsedCommand.SlotHelp(Usage.slotHelp());
                }
                LegacySlotParser.parse(tree, v);
            }
            case 'S' -> tree.setBoolean("memory.wired", true);
            case 'u' -> tree.setBoolean("rtc.use_localtime", false);
            case 'U' -> {
                OptionValues.checkUuid(v);
                tree.set("uuid", v);
            }
            case 'w' -> tree.setBoolean("x86.strictmsr", false);
            case 'W' -> tree.setBoolean("virtio_msix", false);
            case 'x' -> tree.setBoolean("x86.x2apic", true);
            case 'Y' -> tree.setBoolean("x86.mptable", false);
            default -> throw new IllegalStateException("option -" + option + " has no handler");
        }
        return null;
    }

    /** bhyve compares with strncmp(arg, "help", strlen(arg)): any prefix of "help" asks for help. */
    private static boolean isHelp(String arg) {
        return "help".startsWith(arg);
    }

    /** Operands, then the checks bhyve makes before it creates the VM. */
    private static ParsedCommand finish(ConfigTree tree, List<String> operands) {
        if (operands.size() > 1) {
            throw new ConfigException("too many arguments after the VM name: "
                    + String.join(" ", operands.subList(1, operands.size())));
        }
        if (operands.size() == 1) {
            tree.set("name", operands.getFirst());
        }
        Optional<String> name = tree.get("name");
        if (name.isEmpty() && !tree.has("restore")) {
            throw new ConfigException("missing vmname (" + PROGRAM + " -h shows the usage)");
        }
        name.ifPresent(OptionValues::checkName);
        for (String key : BOOLEAN_KEYS) {
            tree.getBoolean(key, false);
        }
        if (tree.getBoolean("config.dump", false)) {
            return new ParsedCommand.Run(tree); // bhyve dumps before checking anything else
        }
        Topology.from(tree);
        tree.get("memory.size").ifPresent(ConfigTree::parseMemorySize);
        tree.get("uuid").ifPresent(OptionValues::checkUuid);
        return new ParsedCommand.Run(tree);
    }
}
