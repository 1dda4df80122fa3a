package org.jbhyve.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * bhyvectl's command line (bhyvectl(8), FreeBSD's getopt_long table in bhyvectl.c): long
 * options only, {@code --name}, {@code --name=value} or {@code --name value}; an unambiguous
 * prefix of a name is taken for it, as getopt_long does. Numbers are read as strtoul(3) with
 * base 0 reads them: decimal, {@code 0x} hexadecimal, leading-zero octal, a leading minus
 * counting down from 2^64. What the options ask for is collected here in the order bhyvectl
 * acts on it (see {@link BhyvectlMain}); errors are one-line {@link UsageException}s.
 */
final class BhyvectlOptions {
    /** The register getters and setters, in bhyvectl's output order. */
    static final List<String> REGISTERS = List.of("efer", "cr0", "cr2", "cr3", "cr4", "dr0", "dr1", "dr2", "dr3",
            "dr6", "dr7", "rsp", "rip", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15", "rflags");
    /** --get-desc-X and --set-desc-X, in bhyvectl's order. */
    static final List<String> DESCRIPTORS = List.of("ds", "es", "fs", "gs", "ss", "cs", "tr", "ldtr", "gdtr", "idtr");
    /** --get-X / --set-X of segment selectors, in bhyvectl's order. */
    static final List<String> SELECTORS = List.of("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldtr");

    /** Flags without a value that are not register getters. */
    static final List<String> FLAGS = List.of("create", "destroy", "get-all", "get-stats", "get-memmap",
            "get-memseg", "get-lowmem", "get-highmem", "get-x2apic-state", "inject-nmi", "force-reset",
            "force-poweroff", "get-active-cpus", "get-debug-cpus", "get-suspended-cpus", "get-intinfo",
            "get-cpu-topology", "get-rtc-time", "get-rtc-nvram", "help");
    /** Options of FreeBSD's bhyvectl that have no meaning on KVM (VMX/SVM internals, capabilities...). */
    static final List<String> UNAVAILABLE = List.of("run", "getcap", "setcap", "capname", "set-mem",
            "get-gpa-pmap", "assert-lapic-lvt", "unassign-pptdev", "set-x2apic-state",
            "get-eptp", "get-exception-bitmap", "get-io-bitmap-address", "get-tsc-offset", "get-msr-bitmap",
            "get-msr-bitmap-address", "get-guest-pat", "get-guest-sysenter", "get-exit-reason");

    /** Thrown for a bad command line: one line for stderr, exit status 1 (bhyvectl's usage()). */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    String vm;
    int cpu;
    final Set<String> flags = new LinkedHashSet<>();
    final Set<String> gets = new LinkedHashSet<>();
    /** --set-REG values, by register name. */
    final Map<String, Long> sets = new LinkedHashMap<>();
    final Set<String> getDescriptors = new LinkedHashSet<>();
    final Set<String> setDescriptors = new LinkedHashSet<>();
    final Set<String> getSelectors = new LinkedHashSet<>();
    final Map<String, Long> setSelectors = new LinkedHashMap<>();
    long descBase;
    long descLimit;
    long descAccess;
    Long setRtcTime;
    /** --checkpoint=FILE and --suspend=FILE. */
    String checkpointFile;
    String suspendFile;
    Integer setRtcNvram;
    int rtcNvramOffset;

    boolean has(String flag) {
        return flags.contains(flag);
    }

    private record Option(String name, boolean takesValue) {}

    private static List<Option> table() {
        List<Option> t = new ArrayList<>();
        for (String f : FLAGS) {
            t.add(new Option(f, false));
        }
        for (String r : REGISTERS) {
            t.add(new Option("get-" + r, false));
            t.add(new Option("set-" + r, true));
        }
        for (String d : DESCRIPTORS) {
            t.add(new Option("get-desc-" + d, false));
            t.add(new Option("set-desc-" + d, false));
        }
        for (String s : SELECTORS) {
            t.add(new Option("get-" + s, false));
            t.add(new Option("set-" + s, true));
        }
        for (String v : List.of("vm", "cpu", "desc-base", "desc-limit", "desc-access", "set-rtc-time",
                "set-rtc-nvram", "rtc-nvram-offset", "checkpoint", "suspend")) {
            t.add(new Option(v, true));
        }
        for (String u : UNAVAILABLE) {
            t.add(new Option(u, false)); // refused by name before any value is read
        }
        return t;
    }

    /** Every option name, for the usage text. */
    static List<String> names() {
        return table().stream().filter(o -> !UNAVAILABLE.contains(o.name())).map(o -> o.takesValue()
                ? o.name() + "=<" + o.name().replaceFirst("^set-", "").toUpperCase(java.util.Locale.ROOT) + ">"
                : o.name()).toList();
    }

    static BhyvectlOptions parse(String... argv) {
        BhyvectlOptions o = new BhyvectlOptions();
        List<Option> table = table();
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (arg.equals("-h")) {
                o.flags.add("help");
                continue;
            }
            if (!arg.startsWith("--") || arg.equals("--")) {
                throw new UsageException("unexpected argument '" + arg + "'");
            }
            String body = arg.substring(2);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            Option opt = lookup(table, name, arg);
            if (UNAVAILABLE.contains(opt.name())) {
                throw new UsageException("--" + opt.name() + " is not available with Linux KVM");
            }
            String value = null;
            if (opt.takesValue()) {
                if (eq >= 0) {
                    value = body.substring(eq + 1);
                } else if (i + 1 < argv.length) {
                    value = argv[++i];
                } else {
                    throw new UsageException("option '--" + opt.name() + "' requires an argument");
                }
            } else if (eq >= 0) {
                throw new UsageException("option '--" + opt.name() + "' doesn't allow an argument");
            }
            o.apply(opt.name(), value);
        }
        if (o.vm == null && !o.has("help")) {
            throw new UsageException("--vm=<vmname> is required");
        }
        return o;
    }

    private static Option lookup(List<Option> table, String name, String arg) {
        for (Option o : table) {
            if (o.name().equals(name)) {
                return o;
            }
        }
        List<Option> prefixed = table.stream().filter(o -> o.name().startsWith(name)).toList();
        if (name.isEmpty() || prefixed.isEmpty()) {
            throw new UsageException("unrecognized option '" + arg + "'");
        }
        if (prefixed.size() > 1) {
            throw new UsageException("option '" + arg + "' is ambiguous");
        }
        return prefixed.getFirst();
    }

    private String snapshotFile(String name, String value) {
        if (value.isEmpty()) {
            throw new UsageException("option '--" + name + "' requires a file name");
        }
        if ((name.equals("checkpoint") ? suspendFile : checkpointFile) != null) {
            throw new UsageException("--checkpoint and --suspend exclude each other");
        }
        return value;
    }

    private void apply(String name, String value) {
        switch (name) {
            case "vm" -> vm = value;
            case "cpu" -> {
                long c = number(name, value);
                if (c < 0 || c > 1023) {
                    throw new UsageException("invalid --cpu '" + value + "' (0-1023)");
                }
                cpu = (int) c;
            }
            case "desc-base" -> descBase = number(name, value);
            case "desc-limit" -> descLimit = number(name, value) & 0xFFFF_FFFFL;
            case "desc-access" -> descAccess = number(name, value) & 0xFFFF_FFFFL;
            case "set-rtc-time" -> setRtcTime = number(name, value);
            case "set-rtc-nvram" -> setRtcNvram = (int) (number(name, value) & 0xFF);
            case "rtc-nvram-offset" -> rtcNvramOffset = (int) number(name, value);
            case "checkpoint" -> checkpointFile = snapshotFile(name, value);
            case "suspend" -> suspendFile = snapshotFile(name, value);
            default -> {
                if (FLAGS.contains(name)) {
                    flags.add(name);
                } else if (name.startsWith("get-desc-")) {
                    getDescriptors.add(name.substring(9));
                } else if (name.startsWith("set-desc-")) {
                    setDescriptors.add(name.substring(9));
                } else if (name.startsWith("get-") && SELECTORS.contains(name.substring(4))) {
                    getSelectors.add(name.substring(4));
                } else if (name.startsWith("set-") && SELECTORS.contains(name.substring(4))) {
                    setSelectors.put(name.substring(4), number(name, value) & 0xFFFF);
                } else if (name.startsWith("get-")) {
                    gets.add(name.substring(4));
                } else {
                    sets.put(name.substring(4), number(name, value));
                }
            }
        }
    }

    /** strtoul(value, NULL, 0), but a value that is not a whole number is an error. */
    static long number(String option, String value) {
        String v = value.strip();
        boolean negative = v.startsWith("-");
        if (negative || v.startsWith("+")) {
            v = v.substring(1);
        }
        int radix = 10;
        if (v.startsWith("0x") || v.startsWith("0X")) {
            radix = 16;
            v = v.substring(2);
        } else if (v.length() > 1 && v.startsWith("0")) {
            radix = 8;
            v = v.substring(1);
        }
        try {
            if (v.isEmpty() || v.startsWith("-") || v.startsWith("+")) {
                throw new NumberFormatException();
            }
            long n = Long.parseUnsignedLong(v, radix);
            return negative ? -n : n;
        } catch (NumberFormatException e) {
            throw new UsageException("invalid number '" + value + "' for --" + option);
        }
    }
}
