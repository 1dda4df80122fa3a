package org.jbhyve.cli;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.vcpu.Descriptor;
import org.jbhyve.vcpu.VcpuRegisters;

/**
 * bhyvectl's output lines, character for character as FreeBSD's bhyvectl.c prints them
 * (printf formats quoted on each method), so scripts written against bhyvectl read ours.
 */
final class BhyvectlFormat {
    private BhyvectlFormat() {}

    /** {@code "%s[%d]\t\t0x%016lx"}; rflags has one tab ({@code "rflags[%d]\t0x%016lx"}). */
    static String register(String name, int cpu, long value) {
        return String.format("%s[%d]%s0x%016x", name, cpu, name.equals("rflags") ? "\t" : "\t\t", value);
    }

    /** {@code "%s desc[%d]\t0x%016lx/0x%08x/0x%08x"}, or {@code "gdtr[%d]\t\t0x%016lx/0x%08x"}. */
    static String descriptor(String name, int cpu, Descriptor d) {
        if (name.equals("gdtr") || name.equals("idtr")) {
            return String.format("%s[%d]\t\t0x%016x/0x%08x", name, cpu, d.base(), d.limit());
        }
        return String.format("%s desc[%d]\t0x%016x/0x%08x/0x%08x", name, cpu, d.base(), d.limit(), d.access());
    }

    /** {@code "cs[%d]\t\t0x%04lx"}. */
    static String selector(String name, int cpu, long value) {
        return String.format("%s[%d]\t\t0x%04x", name, cpu, value);
    }

    /** {@code "x2apic_state[%d]\t%d"}. */
    static String x2apicState(int cpu, int state) {
        return String.format("x2apic_state[%d]\t%d", cpu, state);
    }

    /** {@code "rtc nvram[%03d]: 0x%02x"}. */
    static String rtcNvram(int offset, int value) {
        return String.format("rtc nvram[%03d]: 0x%02x", offset, value);
    }

    /** {@code "rtc time %#lx: %s %s %02d %02d:%02d:%02d %d"}, the date as gmtime(3) breaks it down. */
    static String rtcTime(long seconds) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
        String day = t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.SHORT, Locale.ROOT);
        String month = t.getMonth().getDisplayName(java.time.format.TextStyle.SHORT, Locale.ROOT);
        return String.format("rtc time %s: %s %s %02d %02d:%02d:%02d %d", alternateHex(seconds), day, month,
                t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond(), t.getYear());
    }

    /** C's {@code %#lx}/{@code %#x}: "0x" before a non-zero value, plain "0" for zero. */
    static String alternateHex(long v) {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    /** {@code print_intinfo}: "pending:\tn/a", or the event's type, vector and error code. */
    static String intinfo(String banner, long info) {
        StringBuilder b = new StringBuilder(banner).append(":\t");
        if ((info & VcpuRegisters.INTINFO_VALID) == 0) {
            return b.append("n/a").toString();
        }
        long type = info & 0x700;
        b.append(type == VcpuRegisters.INTINFO_HWINTR ? "extint" : type == VcpuRegisters.INTINFO_NMI ? "nmi"
                : type == VcpuRegisters.INTINFO_SWINTR ? "swint" : "exception");
        b.append(" vector ").append(info & 0xFF);
        if ((info & VcpuRegisters.INTINFO_DEL_ERRCODE) != 0) {
            b.append(" errcode ").append(alternateHex(info >>> 32));
        }
        return b.toString();
    }

    /** {@code print_cpus}: "active cpus:\t 0, 1" or "active cpus:\t (none)". */
    static String cpus(String banner, List<Integer> cpus) {
        StringBuilder b = new StringBuilder(banner).append(":\t");
        if (cpus.isEmpty()) {
            return b.append(" (none)").toString();
        }
        for (int i = 0; i < cpus.size(); i++) {
            b.append(i == 0 ? " " : ", ").append(cpus.get(i));
        }
        return b.toString();
    }

    /** {@code "vcpu%d stats:"} then {@code "%-40s\t%ld"} per statistic. */
    static List<String> stats(int cpu, Map<String, Long> stats) {
        List<String> out = new java.util.ArrayList<>();
        out.add("vcpu" + cpu + " stats:");
        stats.forEach((name, value) -> out.add(String.format("%-40s\t%d", name, value)));
        return out;
    }

    /** {@code "cpu_topology:\tsockets=%hu, cores=%hu, threads=%hu, maxcpus=%hu"}. */
    static String topology(MachineControl.Topology t) {
        return String.format("cpu_topology:\tsockets=%d, cores=%d, threads=%d, maxcpus=%d", t.sockets(), t.cores(),
                t.threads(), t.maxcpus());
    }

    /** {@code "lowmem\t\t0x%016lx/%ld%s"} (and highmem), " wired" when the memory is wired. */
    static String memorySegment(String name, long gpa, long length, boolean wired) {
        return String.format("%s\t\t0x%016x/%d%s", name, gpa, length, wired ? " wired" : "");
    }

    /** show_memmap: a header, then address, size, segment, offset, protection and flags per mapping. */
    static List<String> memmap(List<MachineControl.Mapping> mappings) {
        List<String> out = new java.util.ArrayList<>();
        out.add("Address     Length      Segment     Offset      Prot  Flags");
        for (MachineControl.Mapping m : mappings) {
            out.add(String.format("%-12X%-12s%-12s%-12X%s   %s", m.gpa(), humanize(m.length()), m.segment(),
                    m.offset(), m.protection(), m.wired() ? "wired" : ""));
        }
        return out;
    }

    /** show_memseg: a header, then id, size and name per segment (sysmem first). */
    static List<String> memseg(List<MachineControl.Mapping> mappings) {
        List<String> out = new java.util.ArrayList<>();
        out.add("ID  Length      Name");
        Map<String, Long> sizes = new java.util.LinkedHashMap<>();
        for (MachineControl.Mapping m : mappings) {
            sizes.merge(m.segment(), m.length(), Long::sum);
        }
        int id = 0;
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            out.add(String.format("%-4d%-12s%s", id++, humanize(e.getValue()), e.getKey()));
        }
        return out;
    }

    /**
     * humanize_number(buf, 8, n, "B", HN_AUTOSCALE, HN_NOSPACE): divide by 1024 until the number
     * has at most 5 digits, round the last remainder at 950, and add the prefix (k, M, G, T, P,
     * E; lower-case k as libutil writes it) and "B".
     */
    static String humanize(long bytes) {
        String[] prefixes = {"", "k", "M", "G", "T", "P", "E"};
        long quotient = bytes;
        long remainder = 0;
        int i = 0;
        long max = 100_000;
        while ((quotient >= max || (quotient == max - 1 && remainder >= 950)) && i < 7) {
            remainder = quotient % 1024;
            quotient /= 1024;
            i++;
        }
        return (quotient + (remainder + 50) / 1000) + prefixes[i] + "B";
    }
}
