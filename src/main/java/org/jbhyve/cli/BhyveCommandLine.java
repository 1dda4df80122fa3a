package org.jbhyve.cli;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern UUID = Pattern.compile(
            "\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");
    private static final Pattern PIN = Pattern.compile("(\\d{1,9}):(\\d{1,9})");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");

    /** Keys the options write as booleans; a bad spelling set through -o or -k is caught at once. */
    static final List<String> BOOLEAN_KEYS = List.of("acpi_tables", "destroy_on_poweroff",
            "memory.guest_in_core", "memory.wired", "rtc.use_localtime", "virtio_msix", "gdb.wait",
            "x86.x2apic", "x86.strictio", "x86.strictmsr", "x86.vmexit_on_hlt", "x86.vmexit_on_pause",
            "x86.mptable", "lpc.pc-testdev", "config.dump");

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
        cl.setSplitQuotedStrings(false);
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
            case 'c' -> parseTopology(tree, v);
            case 'C' -> tree.setBoolean("memory.guest_in_core", true);
            case 'D' -> tree.setBoolean("destroy_on_poweroff", true);
            case 'e' -> tree.setBoolean("x86.strictio", true);
            case 'G' -> parseGdb(tree, v);
            case 'h' -> {
                return new ParsedCommand.Help(Usage.usage(PROGRAM));
            }
            case 'H' -> tree.setBoolean("x86.vmexit_on_hlt", true);
            case 'k' -> readConfigFile(tree, v);
            case 'l' -> {
                if (isHelp(v)) {
                    return new ParsedCommand.LpcHelp(Usage.lpcHelp());
                }
                LegacyLpcParser.parse(tree, v);
            }
            case 'm' -> tree.set("memory.size", v);
            case 'o' -> {
                if (!setOption(tree, v)) {
                    throw new ConfigException("invalid configuration option '" + v + "' (expected key=value)");
                }
            }
            case 'p' -> pinVcpu(tree, v);
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
                checkUuid(v);
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
        name.ifPresent(BhyveCommandLine::checkName);
        for (String key : BOOLEAN_KEYS) {
            tree.getBoolean(key, false);
        }
        if (tree.getBoolean("config.dump", false)) {
            return new ParsedCommand.Run(tree); // bhyve dumps before checking anything else
        }
        Topology.from(tree);
        tree.get("memory.size").ifPresent(ConfigTree::parseMemorySize);
        tree.get("uuid").ifPresent(BhyveCommandLine::checkUuid);
        return new ParsedCommand.Run(tree);
    }

    static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new ConfigException("invalid vmname '" + name
                    + "': letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new ConfigException("invalid vmname '" + name + "': longer than " + MAX_NAME_LENGTH
                    + " characters");
        }
    }

    private static void checkUuid(String uuid) {
        if (!UUID.matcher(uuid).matches()) {
            throw new ConfigException("invalid UUID '" + uuid + "' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
        }
    }

    /** bhyve's topology_parse(): known keys by prefix, a bare number is cpus, "" is one vCPU. */
    private static void parseTopology(ConfigTree tree, String opt) {
        if (opt.isEmpty()) {
            for (String key : List.of("sockets", "cores", "threads", "cpus")) {
                tree.set(key, "1");
            }
            return;
        }
        for (String item : opt.split(",", -1)) {
            String key = "cpus";
            String value = item;
            int eq = item.indexOf('=');
            if (eq >= 0) {
                key = item.substring(0, eq);
                value = item.substring(eq + 1);
                if (!List.of("cpus", "sockets", "cores", "threads").contains(key)) {
                    throw new ConfigException("invalid cpu topology '" + opt + "': unknown setting '" + key + "'");
                }
            }
            if (value.isEmpty()) {
                throw new ConfigException("invalid cpu topology '" + opt + "': empty " + key);
            }
            tree.set(key, value);
        }
    }

    /** {@code -G [w][addr:]port}; the address is everything before the last colon. */
    private static void parseGdb(ConfigTree tree, String opt) {
        String s = opt;
        boolean wait = s.startsWith("w");
        if (wait) {
            s = s.substring(1);
        }
        int colon = s.lastIndexOf(':');
        String port = colon < 0 ? s : s.substring(colon + 1);
        String address = colon < 0 ? null : s.substring(0, colon);
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new ConfigException("invalid debug server port '" + port + "' in -G " + opt
                    + " (expected [w][addr:]port, port 1-65535)");
        }
        if (address != null && address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1); // [::1]:1234
        }
        if (address != null && address.isEmpty()) {
            throw new ConfigException("invalid debug server address in -G " + opt);
        }
        if (wait) {
            tree.setBoolean("gdb.wait", true);
        }
        if (address != null) {
            tree.set("gdb.address", address);
        }
        tree.set("gdb.port", port);
    }

    /** {@code -p vcpu:hostcpu}: appends the host CPU to vcpu.N.cpuset. */
    private static void pinVcpu(ConfigTree tree, String opt) {
        Matcher m = PIN.matcher(opt);
        if (!m.matches()) {
            throw new ConfigException("invalid vcpu pinning configuration '" + opt + "' (expected vcpu:hostcpu)");
        }
        int vcpu = Integer.parseInt(m.group(1));
        int host = Integer.parseInt(m.group(2));
        if (vcpu >= Topology.MAX_CPUS) {
            throw new ConfigException("invalid vcpu pinning configuration '" + opt + "': vcpu " + vcpu
                    + " outside valid range from 0 to " + (Topology.MAX_CPUS - 1));
        }
        if (host >= CPU_SETSIZE) {
            throw new ConfigException("invalid vcpu pinning configuration '" + opt + "': hostcpu " + host
                    + " outside valid range from 0 to " + (CPU_SETSIZE - 1));
        }
        String key = "vcpu." + vcpu + ".cpuset";
        tree.set(key, tree.getRaw(key).map(old -> old + "," + host).orElse(Integer.toString(host)));
    }

    /** bhyve's parse_config_option(): {@code key=value} with a non-empty value. */
    private static boolean setOption(ConfigTree tree, String option) {
        int eq = option.indexOf('=');
        if (eq < 0 || eq == option.length() - 1) {
            return false;
        }
        tree.set(option.substring(0, eq), option.substring(eq + 1));
        return true;
    }

    /**
     * {@code -k file}: one {@code key=value} per line; blank lines and lines
     * starting with {@code #} are skipped. Errors name the file and line.
     */
    private static void readConfigFile(ConfigTree tree, String file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("Failed to open configuration file " + file + ": no such file");
        } catch (CharacterCodingException e) {
            throw new ConfigException("Failed to read configuration file " + file + ": not UTF-8 text");
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw new ConfigException("Failed to open configuration file " + file + ": " + e.getMessage());
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.isBlank() || line.strip().startsWith("#")) {
                continue;
            }
            try {
                if (!setOption(tree, line)) {
                    throw new ConfigException("invalid config option '" + line + "'");
                }
            } catch (ConfigException e) {
                throw new ConfigException(file + " line " + (i + 1) + ": " + e.getMessage());
            }
        }
    }
}
