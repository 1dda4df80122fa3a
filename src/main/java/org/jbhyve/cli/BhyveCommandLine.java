package org.jbhyve.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.LegacyLpcParser;
import org.jbhyve.config.LegacySlotParser;
import org.jbhyve.config.Topology;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

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
 * <p>picocli does the tokenizing only (POSIX clusters, attached values,
 * {@code --}); it prints nothing and runs nothing, and every error is a
 * one-line {@link ConfigException}. Options are recorded through picocli
 * setters and applied here in command-line order, because bhyve's semantics
 * (a later {@code -o} overrides an earlier option, {@code -k} applies where it
 * stands, {@code -h} stops at once) depend on an order that annotated fields
 * would lose.
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

    private static final String FLAGS = "aACDehHPSuwWxY";
    private static final String WITH_VALUE = "cGklmoprsU";
    private static final List<String> VALUE_LABELS = List.of("<topology>", "<[w][addr:]port>", "<file>",
            "<lpcdev[,conf]>", "<size>", "<key=value>", "<vcpu:hostcpu>", "<file>", "<slot,emulation[,conf]>",
            "<uuid>");

    /** One option occurrence, in command-line order. */
    private record Action(char option, String value) {
    }

    private BhyveCommandLine() {
    }

    /**
     * Parses a bhyve command line (without the program name).
     *
     * @throws ConfigException with a one-line message on any error
     */
    public static ParsedCommand parse(String... argv) {
        List<Action> actions = new ArrayList<>();
        CommandLine cl = new CommandLine(spec(actions));
        cl.setPosixClusteredShortOptionsAllowed(true);
        cl.setStopAtPositional(true);
        cl.setOverwrittenOptionsAllowed(true);
        cl.setAllowOptionsAsOptionParameters(true);
        cl.setUnmatchedOptionsAllowedAsOptionParameters(true);
        cl.setExpandAtFiles(false);
        cl.setTrimQuotes(false);
        cl.setInterpolateVariables(false);
        cl.setUnmatchedArgumentsAllowed(false);

        List<String> operands = List.of();
        ParameterException parseError = null;
        try {
            ParseResult result = cl.parseArgs(argv);
            if (result.hasMatchedPositional(0)) {
                operands = result.matchedPositional(0).getValue();
            }
        } catch (ParameterException e) {
            parseError = e; // raised after the options before it, as getopt would
        }

        ConfigTree tree = new ConfigTree();
        for (Action a : actions) {
            ParsedCommand stop = apply(tree, a);
            if (stop != null) {
                return stop;
            }
        }
        if (parseError != null) {
            throw new ConfigException(describe(parseError));
        }
        return finish(tree, operands);
    }

    private static CommandSpec spec(List<Action> actions) {
        CommandSpec spec = CommandSpec.create().name(PROGRAM);
        for (char f : FLAGS.toCharArray()) {
            spec.addOption(OptionSpec.builder("-" + f).arity("0").type(boolean.class)
                    .setter(recorder(actions, f)).build());
        }
        for (int i = 0; i < WITH_VALUE.length(); i++) {
            char o = WITH_VALUE.charAt(i);
            spec.addOption(OptionSpec.builder("-" + o).arity("1").type(String.class)
                    .paramLabel(VALUE_LABELS.get(i)).setter(recorder(actions, o)).build());
        }
        spec.addPositional(PositionalParamSpec.builder().arity("0..*").type(List.class)
                .auxiliaryTypes(String.class).paramLabel("vmname").build());
        return spec;
    }

    /** Records each occurrence; initial values picocli may set (null, false) are not occurrences. */
    private static ISetter recorder(List<Action> actions, char option) {
        return new ISetter() {
            @Override
            public <T> T set(T value) {
                if (value instanceof String s) {
                    actions.add(new Action(option, s));
                } else if (Boolean.TRUE.equals(value)) {
                    actions.add(new Action(option, null));
                }
                return null;
            }
        };
    }

    private static String describe(ParameterException e) {
        String msg = e.getMessage() == null ? "invalid command line" : e.getMessage().lines().findFirst().orElse("");
        return msg + " (" + PROGRAM + " -h lists the options)";
    }

    /** Applies one option; returns a help result when the option asks for one. */
    private static ParsedCommand apply(ConfigTree tree, Action a) {
        String v = a.value();
        switch (a.option()) {
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
            default -> throw new IllegalStateException("option -" + a.option() + " has no handler");
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
