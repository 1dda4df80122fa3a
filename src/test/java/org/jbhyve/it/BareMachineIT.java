package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The bare machine (issue: hostbridge, LPC, COM1, RTC, pc-testdev) booting the PVH probe guest. */
class BareMachineIT {
    private static String probe;

    @BeforeAll
    static void guest() {
        VmRun.requireKvm();
        probe = VmRun.testGuest("probe.elf").toString();
    }

    private static VmRun boot(String memory, String cmdline, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("-c", "2", "-m", memory, "-s", "0,hostbridge",
                "-s", "31,lpc", "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + probe,
                "-o", "boot.cmdline=" + cmdline));
        args.addAll(List.of(extra));
        args.add("vm");
        return VmRun.bhyve(args.toArray(String[]::new));
    }

    @Tag("core")
    @Test
    void guestSeesItsCommandLineMemoryMapAndPciDevicesAndExitsThroughPort0xF4() {
        VmRun run = boot("256M", "console=ttyS0 jbhyve=yes action=exit:21");
        assertEquals(43, run.exitCode, run::toString);
        assertEquals(List.of("console=ttyS0 jbhyve=yes action=exit:21"), run.probeLines("cmdline"), run::toString);
        // bhyve's e820: RAM below the legacy VGA/ROM window, then from 1 MiB to the end of RAM.
        assertEquals(List.of("0 a0000 1", "100000 ff00000 1"), run.probeLines("mem"), run::toString);
        assertEquals(List.of("00:00.0 1275:1275 class 060000 hdr 00", "00:1f.0 8086:7000 class 060100 hdr 00"),
                run.probeLines("pci"), run::toString);
        assertEquals(List.of("2"), run.probeLines("pci-done"));
        assertEquals("", run.stderr, "a clean exit prints nothing on stderr");
    }

    @Test
    void memoryAboveThreeGigabytesIsSplitAroundThePciHole() {
        VmRun run = boot("5G", "action=exit:0");
        assertEquals(1, run.exitCode, run::toString);
        assertEquals(List.of("0 a0000 1", "100000 bff00000 1", "100000000 80000000 1"), run.probeLines("mem"),
                run::toString);
    }

    @ParameterizedTest(name = "debug exit {0} with a {1}-byte write gives status {2}")
    @CsvSource({"0,1,1", "7,1,15", "300,2,89", "100000,4,65"})
    void debugExitStatusIsValueShiftedLeftOrOne(int value, int width, int status) {
        VmRun run = boot("64M", "action=exit:" + value + ":" + width);
        assertEquals(status, run.exitCode, run::toString);
    }

    @ParameterizedTest(name = "{0} exits with {1}")
    @CsvSource({"reset-cf9,0", "reset-kbd,0", "triple,3", "halt,2"})
    void resetTripleFaultAndHaltMapToBhyveExitStatuses(String action, int status) {
        VmRun run = boot("64M", "action=" + action);
        assertEquals(status, run.exitCode, run::toString);
    }

    @Test
    void ecamReachesTheSameConfigurationSpace() {
        VmRun run = boot("64M", "action=ecam");
        assertEquals(1, run.exitCode, run::toString);
        assertEquals(List.of("1275:1275 class 060000"), run.probeLines("ecam"), run::toString);
    }

    @Test
    void amdHostbridgeHasAmdIds() {
        VmRun run = VmRun.bhyve("-s", "0,amd_hostbridge", "-s", "1,lpc", "-l", "com1,stdio", "-l", "pc-testdev",
                "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action=exit:0", "vm");
        assertEquals(1, run.exitCode, run::toString);
        assertEquals(List.of("00:00.0 1022:7432 class 060000 hdr 00", "00:01.0 8086:7000 class 060100 hdr 00"),
                run.probeLines("pci"), run::toString);
    }

    @Test
    void cpuidTopologyFollowsSocketsCoresThreads() {
        VmRun run = VmRun.bhyve("-c", "4,sockets=2,cores=2", "-m", "64M", "-s", "0,hostbridge", "-l", "com1,stdio",
                "-l", "pc-testdev", "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action=exit:0", "vm");
        assertEquals(1, run.exitCode, run::toString);
        // leaf 0xB as "level type shift x2apic-id": SMT level (type 1, no thread bits), core level (type 2, 1 bit)
        List<String> topo = run.probeLines("topo");
        assertTrue(topo.size() >= 2, run::toString);
        assertEquals("0 1 0 0", topo.get(0), run::toString);
        assertEquals("1 2 1 0", topo.get(1), run::toString);
    }

    @Test
    void guestDropsToRingThreeWithIoPrivilege() {
        VmRun run = boot("64M", "action=ring3");
        assertEquals(1, run.exitCode, run::toString);
        assertTrue(run.probeLines().contains("ring3 ok"), run::toString);
    }
}
