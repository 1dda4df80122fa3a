package org.jbhyve.cli;

import static org.jbhyve.cli.BhyveInProcess.assertOneLineError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import org.jbhyve.cli.BhyveInProcess.Outcome;
import org.jbhyve.sys.Affinity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Command lines bhyve refuses before it opens /dev/kvm, run through the command's entry point:
 * one {@code bhyve: } line on stderr, status 4, no stack trace. (This host may have no KVM at
 * all: a check that came after opening it would fail these tests with KVM's message instead.)
 */
class StartupChecksTest {
    @TempDir
    Path rundir;

    private Outcome bhyve(String... args) {
        return BhyveInProcess.run(rundir, args);
    }

    @Test
    void aSecondLpcBridgeIsRefusedWithBhyvesWords() {
        assertOneLineError(bhyve("-s", "1,lpc", "-s", "2,lpc", "vm1"),
                "pci slot 0:2:0: Only one LPC bridge is allowed. (the first is in slot 0:1:0)");
    }

    @Test
    void aSecondHostBridgeOrFramebufferIsRefused() {
        assertOneLineError(bhyve("-s", "0,hostbridge", "-s", "3,amd_hostbridge", "vm1"),
                "pci slot 0:3:0: Only one host bridge is allowed. (the first is in slot 0:0:0)");
        assertOneLineError(bhyve("-s", "29,fbuf,tcp=127.0.0.1:0", "-s", "30,fbuf,tcp=127.0.0.1:0", "vm1"),
                "pci slot 0:30:0: Only one frame buffer device is allowed. (the first is in slot 0:29:0)");
    }

    @Test
    void anEmulationThisBuildLacksIsRefusedBeforeKvm() {
        assertOneLineError(bhyve("-s", "30,passthru,1/2/3", "vm1"),
                "pci slot 0:30:0: emulation 'passthru' is not available in this build (-s help lists those that are)");
    }

    @Test
    void configDumpExitsOneAsBhyveDoes() {
        Outcome o = bhyve("-m", "1G", "-o", "config.dump=1", "vm1");
        assertEquals(1, o.status(), o::toString);
        assertEquals(List.of(), o.err());
        assertTrue(o.out().lines().toList().contains("memory.size=1G"), o.out());
    }

    @Test
    void slotHelpListsOnlyWhatIsBuiltWithItsOptions() {
        Outcome o = bhyve("-s", "help");
        assertEquals(0, o.status(), o::toString);
        List<String> names = o.out().lines().skip(1).map(l -> l.strip().split(" ")[0]).toList();
        assertEquals(List.of("hostbridge", "amd_hostbridge", "lpc", "virtio-blk", "virtio-net", "virtio-rnd",
                "virtio-console", "virtio-scsi", "ahci", "ahci-hd", "ahci-cd", "nvme", "e1000", "fbuf", "xhci"), names);
        for (String absent : List.of("passthru", "hda", "uart", "virtio-9p")) {
            assertFalse(o.out().contains(absent), absent);
        }
        String blk = o.out().lines().filter(l -> l.startsWith("  virtio-blk ")).findFirst().orElseThrow();
        for (String option : List.of("ro", "nocache", "direct", "sectorsize=", "nodelete", "nolock", "ser=",
                "bootindex=")) {
            assertTrue(blk.contains("[," + option), blk + " lacks " + option);
        }
        String nvme = o.out().lines().filter(l -> l.startsWith("  nvme ")).findFirst().orElseThrow();
        for (String option : List.of("ram=MiB", "maxq=", "qsz=", "ioslots=", "sectsz=", "eui64=", "dsm=")) {
            assertTrue(nvme.contains(option), nvme + " lacks " + option);
        }
    }

    @Test
    void bootFilesMustBeRegularFilesNamedOnceWithTheReason() {
        assertOneLineError(bhyve("-o", "boot.kernel=/dev/zero", "vm1"), "boot.kernel /dev/zero: not a regular file");
        assertOneLineError(bhyve("-o", "boot.kernel=/nonexistent/vmlinuz", "vm1"),
                "boot.kernel /nonexistent/vmlinuz: No such file or directory");
        assertOneLineError(bhyve("-o", "boot.kernel=/etc/hostname", "-o", "boot.initrd=/nonexistent/initrd", "vm1"),
                "boot.initrd /nonexistent/initrd: No such file or directory");
        assertOneLineError(bhyve("-l", "bootrom,/nonexistent/rom.fd", "vm1"),
                "bootrom /nonexistent/rom.fd: No such file or directory");
        assertOneLineError(bhyve("-l", "bootrom,/dev/zero", "vm1"), "bootrom /dev/zero: not a regular file");
    }

    @Test
    void aMissingConfigFileSaysWhy() {
        assertOneLineError(bhyve("-k", "/nonexistent/vm1.conf", "vm1"),
                "Failed to open configuration file /nonexistent/vm1.conf: No such file or directory");
        assertOneLineError(bhyve("-k", "/dev/zero", "vm1"),
                "Failed to read configuration file /dev/zero: longer than 1 MiB");
    }

    @Test
    void pinningToAHostCpuThisProcessCannotUseIsRefusedUpFront() {
        BitSet allowed = Affinity.allowedCpus();
        assumeFalse(allowed.get(999), "this host lets the process run on CPU 999");
        String line = BhyveInProcess.assertOneLineErrorContaining(bhyve("-p", "0:999", "vm1"),
                "vcpu.0.cpuset (-p 0:999): host CPU 999 does not exist or is not available to this process (available: ");
        assertTrue(line.contains(Integer.toString(allowed.nextSetBit(0))), line);
        BhyveInProcess.assertOneLineErrorContaining(bhyve("-c", "2", "-p", "1:" + allowed.nextSetBit(0), "-p", "1:999",
                "vm1"), "(-p 1:999): host CPU 999");
    }

    @Test
    void wiringMoreMemoryThanTheHostHasIsRefusedBeforeAllocating() throws Exception {
        long availableKib = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemAvailable:")).map(l -> l.trim().split("\\s+")[1])
                .mapToLong(Long::parseLong).findFirst().orElseThrow();
        long gib = (availableKib >> 20) * 2 + 2;
        // what is available changes from moment to moment: the number itself is not compared
        BhyveInProcess.assertOneLineErrorContaining(bhyve("-S", "-m", gib + "G", "vm1"),
                "bhyve: memory.wired (-S): cannot wire " + (gib << 10) + " MiB of guest memory: the host has ",
                " MiB available (MemAvailable in /proc/meminfo)");
    }
}
