package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.vcpu.Descriptor;
import org.jbhyve.vcpu.VcpuRegisters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Output lines as FreeBSD's bhyvectl prints them, tabs and all. */
class BhyvectlFormatTest {

    @Test
    void registersHaveTwoTabsExceptRflags() {
        assertEquals("rip[0]\t\t0x000000000010002a", BhyvectlFormat.register("rip", 0, 0x10002A));
        assertEquals("r15[3]\t\t0xffffffffffffffff", BhyvectlFormat.register("r15", 3, -1));
        assertEquals("rflags[0]\t0x0000000000000202", BhyvectlFormat.register("rflags", 0, 0x202));
        assertEquals("cr0[1]\t\t0x0000000080050033", BhyvectlFormat.register("cr0", 1, 0x80050033L));
    }

    @Test
    void descriptorsAndSelectors() {
        assertEquals("cs desc[0]\t0x00000000ffff0000/0x0000ffff/0x0000009b",
                BhyvectlFormat.descriptor("cs", 0, new Descriptor(0xFFFF0000L, 0xFFFF, 0x9B)));
        assertEquals("gdtr[0]\t\t0x0000000000001000/0x00000027",
                BhyvectlFormat.descriptor("gdtr", 0, new Descriptor(0x1000, 0x27, 0)));
        assertEquals("ldtr desc[2]\t0x0000000000000000/0x00000000/0x00010000",
                BhyvectlFormat.descriptor("ldtr", 2, new Descriptor(0, 0, 0x10000)));
        assertEquals("cs[0]\t\t0x0008", BhyvectlFormat.selector("cs", 0, 8));
        assertEquals("ldtr[0]\t\t0x0000", BhyvectlFormat.selector("ldtr", 0, 0));
    }

    @Test
    void cpusListsAndNone() {
        assertEquals("active cpus:\t 0, 1, 3", BhyvectlFormat.cpus("active cpus", List.of(0, 1, 3)));
        assertEquals("suspended cpus:\t (none)", BhyvectlFormat.cpus("suspended cpus", List.of()));
    }

    @Test
    void intinfoNamesTheEvent() {
        assertEquals("pending:\tn/a", BhyvectlFormat.intinfo("pending", 0));
        assertEquals("current:\tnmi vector 2", BhyvectlFormat.intinfo("current",
                VcpuRegisters.INTINFO_VALID | VcpuRegisters.INTINFO_NMI | 2));
        assertEquals("current:\texception vector 14 errcode 0x2", BhyvectlFormat.intinfo("current",
                VcpuRegisters.INTINFO_VALID | VcpuRegisters.INTINFO_HWEXCEPTION | VcpuRegisters.INTINFO_DEL_ERRCODE
                        | 14 | (2L << 32)));
        assertEquals("current:\texception vector 13 errcode 0", BhyvectlFormat.intinfo("current",
                VcpuRegisters.INTINFO_VALID | VcpuRegisters.INTINFO_HWEXCEPTION | VcpuRegisters.INTINFO_DEL_ERRCODE
                        | 13));
        assertEquals("pending:\textint vector 48", BhyvectlFormat.intinfo("pending", VcpuRegisters.INTINFO_VALID | 48));
        assertEquals("pending:\tswint vector 128", BhyvectlFormat.intinfo("pending",
                VcpuRegisters.INTINFO_VALID | VcpuRegisters.INTINFO_SWINTR | 128));
    }

    @Test
    void rtcLinesAsGmtimeAndPrintfShowThem() {
        assertEquals("rtc time 0: Thu Jan 01 00:00:00 1970", BhyvectlFormat.rtcTime(0));
        assertEquals("rtc time 0x6553f100: Tue Nov 14 22:13:20 2023", BhyvectlFormat.rtcTime(1_700_000_000L));
        assertEquals("rtc nvram[014]: 0x0a", BhyvectlFormat.rtcNvram(14, 10));
    }

    @Test
    void statsTopologyX2apicAndMemory() {
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("exits", 12L);
        stats.put("jbhyve.exits.io", 3L);
        assertEquals(List.of("vcpu0 stats:", "exits" + " ".repeat(35) + "\t12",
                "jbhyve.exits.io" + " ".repeat(25) + "\t3"), BhyvectlFormat.stats(0, stats));
        assertEquals("cpu_topology:\tsockets=2, cores=2, threads=1, maxcpus=4",
                BhyvectlFormat.topology(new MachineControl.Topology(2, 2, 1, 4)));
        assertEquals("x2apic_state[0]\t1", BhyvectlFormat.x2apicState(0, 1));
        assertEquals("lowmem\t\t0x0000000000000000/268435456", BhyvectlFormat.memorySegment("lowmem", 0, 256L << 20,
                false));
        assertEquals("highmem\t\t0x0000000100000000/1073741824 wired",
                BhyvectlFormat.memorySegment("highmem", 1L << 32, 1L << 30, true));
    }

    @ParameterizedTest
    @CsvSource({"268435456,256MB", "3221225472,3072MB", "1073741824,1024MB", "2097152,2048kB", "65536,65536B",
        "99999,99999B", "100000,97kB", "102350,100kB", "107374182400,100GB", "0,0B"})
    void humanizeNumberAsLibutil(long bytes, String shown) {
        assertEquals(shown, BhyvectlFormat.humanize(bytes));
    }

    @Test
    void memmapAndMemsegTables() {
        List<MachineControl.Mapping> maps = List.of(
                new MachineControl.Mapping(0, 3L << 30, "sysmem", 0, "RWX", true),
                new MachineControl.Mapping(1L << 32, 1L << 30, "sysmem", 3L << 30, "RWX", true),
                new MachineControl.Mapping(0xFFE00000L, 2L << 20, "bootrom", 0, "R-X", false));
        assertEquals(List.of("Address     Length      Segment     Offset      Prot  Flags",
                "0           3072MB      sysmem      0           RWX   wired",
                "100000000   1024MB      sysmem      C0000000    RWX   wired",
                "FFE00000    2048kB      bootrom     0           R-X   "), BhyvectlFormat.memmap(maps));
        assertEquals(List.of("ID  Length      Name", "0   4096MB      sysmem", "1   2048kB      bootrom"),
                BhyvectlFormat.memseg(maps));
    }
}
