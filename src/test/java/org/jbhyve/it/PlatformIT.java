package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The x86 platform: ACPI (-A), MP table (-Y), SMBIOS (-U), topology, x2APIC (-x), power-off and SIGTERM. */
class PlatformIT {
    private static final String UUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    private static List<String> args(String action, String... extra) {
        List<String> a = new ArrayList<>(List.of("-A", "-c", "4,sockets=2,cores=2", "-m", "512M", "-U", UUID,
                "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-l", "pc-testdev",
                "-o", "boot.kernel=" + VmRun.testGuest("acpi.elf"), "-o", "boot.cmdline=action=" + action));
        a.addAll(List.of(extra));
        a.add("vm");
        return a;
    }

    @Tag("core")
    @Test
    void guestFindsBhyveTablesAndPowersOffThroughTheFadt() {
        VmRun run = VmRun.bhyve(args("poweroff").toArray(String[]::new));
        assertEquals(1, run.exitCode, run::toString);
        assertTrue(run.probeLines("rsdp").get(0).matches("f2400 BHYVE rev 2 csum ok xcsum ok"), run::toString);
        List<String> tables = run.probeLines("table");
        for (String sig : List.of("XSDT", "RSDT", "FACP", "APIC", "DSDT", "MCFG")) {
            assertTrue(tables.stream().anyMatch(t -> t.startsWith(sig + " ") && t.endsWith("oem BHYVE csum ok")),
                    sig + " present with a valid checksum:\n" + run);
        }
        assertEquals(List.of("lapic 4 x2apic 0 ioapic 1 iso 2"), run.probeLines("madt"), run::toString);
        assertEquals(List.of("5 5"), run.probeLines("s5"), run::toString);
        assertEquals(List.of("pci0 yes"), run.probeLines("dsdt"), run::toString);
        assertEquals(List.of("e0000000 0 0 255"), run.probeLines("mcfg"), run::toString);
        assertTrue(run.probeLines("smbios-system").get(0).endsWith("uuid " + UUID), run::toString);
        assertEquals(List.of("f0000 csum ok cpus 4"), run.probeLines("mptable"), run::toString);
        assertEquals(List.of("0 1 0 0", "1 2 1 0"), run.probeLines("topo"), "leaf 0xB: 2 cores, 1 thread each");
    }

    /**
     * bhyve's limit is 16 vCPUs (FreeBSD 14: VM_MAXCPU); jbhyve's is KVM's. 288 vCPUs have APIC
     * ids above 254: the MADT lists those as x2APIC entries, and the MP table (8-bit ids) is left
     * out with one notice.
     */
    @Tag("core")
    @Test
    void twoHundredEightyEightVcpusBootAndTheMadtListsEveryOne() {
        VmRun run = VmRun.bhyve("-A", "-c", "288", "-m", "512M", "-s", "0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("acpi.elf"),
                "-o", "boot.cmdline=action=exit:0", "vm");
        assertEquals(1, run.exitCode, run::toString);
        String[] madt = run.probeLines("madt").get(0).split(" "); // lapic N x2apic M ioapic 1 iso 2
        int lapic = Integer.parseInt(madt[1]);
        int x2apic = Integer.parseInt(madt[3]);
        assertEquals(288, lapic + x2apic, run::toString);
        assertTrue(x2apic > 0, "APIC ids above 254 are x2APIC entries: " + run);
        assertEquals(List.of("none"), run.probeLines("mptable"), run::toString);
        assertEquals(1, run.stderr.lines().count(), run::toString);
        assertTrue(run.stderr.startsWith("bhyve: the MP table holds 8-bit APIC ids"), run::toString);
    }

    @Test
    void noMpTableWithY() {
        VmRun run = VmRun.bhyve(args("exit:0", "-Y").toArray(String[]::new));
        assertEquals(1, run.exitCode, run::toString);
        assertEquals(List.of("none"), run.probeLines("mptable"), run::toString);
    }

    @Test
    void x2apicEntriesWithX() {
        VmRun run = VmRun.bhyve(args("exit:0", "-x").toArray(String[]::new));
        assertEquals(1, run.exitCode, run::toString);
        assertEquals(List.of("lapic 0 x2apic 4 ioapic 1 iso 2"), run.probeLines("madt"), run::toString);
    }

    @Test
    void acpiResetRegisterReboots() {
        VmRun run = VmRun.bhyve(args("reset").toArray(String[]::new));
        assertEquals(0, run.exitCode, run::toString);
    }

    @Test
    void dsdtDisassemblesWithIasl() throws Exception {
        // The same DSDT bytes the guest saw, dumped by the machine's table builder through bhyve itself:
        // jbhyve writes its ACPI tables when asked with acpi.dump_dir=DIR (see FirmwareTables).
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("acpi");
        VmRun run = VmRun.bhyve(args("exit:0", "-o", "acpi.dump_dir=" + dir).toArray(String[]::new));
        assertEquals(1, run.exitCode, run::toString);
        java.nio.file.Path dsdt = dir.resolve("DSDT.aml");
        assertTrue(java.nio.file.Files.isRegularFile(dsdt), "DSDT dumped");
        Process iasl = new ProcessBuilder("iasl", "-d", dsdt.toString()).redirectErrorStream(true).start();
        String out = new String(iasl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, iasl.waitFor(), out);
        String dsl = java.nio.file.Files.readString(dir.resolve("DSDT.dsl"));
        assertTrue(dsl.contains("Device (PCI0)"), dsl);
        assertTrue(dsl.contains("_S5"), dsl);
    }

    private static VmRun probe(String action, String... options) {
        List<String> a = new ArrayList<>(List.of(options));
        a.addAll(List.of("-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "-o", "boot.cmdline=action=" + action, "vm"));
        return VmRun.bhyve(a.toArray(String[]::new));
    }

    @Test
    void unknownMsrsFaultUnlessIgnoredWithW() {
        VmRun strict = probe("rdmsr:1234");
        assertEquals((0x7E << 1 | 1) & 0xFF, strict.exitCode, strict::toString);
        assertTrue(strict.probeLines("exception").get(0).startsWith("13 "), "#GP:\n" + strict);
        VmRun ignored = probe("rdmsr:1234", "-w");
        assertEquals(1, ignored.exitCode, ignored::toString);
        assertEquals(List.of("1234 value 0"), ignored.probeLines("rdmsr"));
        VmRun write = probe("wrmsr:1234", "-w");
        assertEquals(1, write.exitCode, write::toString);
        assertEquals(List.of("1234 done"), write.probeLines("wrmsr"));
    }

    @Test
    void unemulatedPortReadsAllOnesOrStopsTheVmWithE() {
        VmRun lenient = probe("inb:300");
        assertEquals(1, lenient.exitCode, lenient::toString);
        assertEquals(List.of("300 value ff"), lenient.probeLines("inb"));
        VmRun strict = probe("inb:300", "-e");
        assertEquals(4, strict.exitCode, strict::toString);
        assertEquals(List.of("bhyve: unhandled read of 1 byte at I/O port 0x300 (-e)"), strict.stderr.lines().toList());
    }

    @Test
    void sigtermPressesThePowerButtonAndTheGuestShutsDown() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(VmRun.HOME.resolve("bin/bhyve").toString()));
        cmd.addAll(args("wait-button"));
        Process vm = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            String seen = VmRun.readUntil(vm.getInputStream(), "JBT waiting-button");
            assertTrue(seen.contains("JBT waiting-button"), seen);
            new ProcessBuilder("kill", "-TERM", Long.toString(vm.pid())).start().waitFor();
            String rest = VmRun.readUntil(vm.getInputStream(), "JBT poweroff");
            assertTrue(rest.contains("JBT button"), rest);
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "the guest powers off");
            assertEquals(1, vm.exitValue());
        } finally {
            vm.destroyForcibly();
        }
    }

}
