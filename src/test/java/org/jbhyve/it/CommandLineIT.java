package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.jbhyve.it.VmRun.assertOneLineError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bin/bhyve as a user meets it: help, config dump, and one-line errors with status 4 for input
 * that is refused before the VM is made. None of these needs /dev/kvm (tag {@code no-kvm}: where
 * the KVM tests run in the emulated machine, bin/test runs these on the host); errors found while
 * the machine is built are {@link BootErrorsIT}'s.
 */
@Tag("no-kvm")
class CommandLineIT {
    @TempDir
    Path dir;

    @Test
    void firmwareFilesThatCannotBeUsedAreOneLine() throws Exception {
        assertOneLineError(VmRun.bhyve("-l", "bootrom,/nonexistent/BHYVE_UEFI.fd", "vm1"),
                "bootrom /nonexistent/BHYVE_UEFI.fd: No such file or directory");
        Path odd = dir.resolve("odd.rom");
        Files.write(odd, new byte[5000]);
        assertOneLineError(VmRun.bhyve("-l", "bootrom," + odd, "vm1"), "is not a multiple of 4 KiB");
        Path big = dir.resolve("big.rom");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength((16 << 20) + 4096);
        }
        assertOneLineError(VmRun.bhyve("-l", "bootrom," + big, "vm1"), "larger than 16 MiB");
        Path rom = dir.resolve("ok.rom");
        Files.write(rom, new byte[65536]);
        assertOneLineError(VmRun.bhyve("-l", "bootrom," + rom + "," + dir.resolve("missing.fd"), "vm1"),
                "missing.fd: No such file or directory");
        assertOneLineError(VmRun.bhyve("-l", "bootrom," + rom, "-o", "boot.kernel=/vmlinuz", "vm1"),
                "exclude each other");
    }

    @Test
    void helpListsOptionsAndExitsZero() {
        VmRun run = VmRun.bhyve("-h");
        assertEquals(0, run.exitCode, run::toString);
        assertTrue(run.stdout.contains("Usage: bhyve"), run::toString);
        for (String option : List.of("-A", "-c", "-l", "-m", "-o", "-s", "-S", "-u", "-U", "-x", "-Y")) {
            assertTrue(run.stdout.contains(option), "help mentions " + option);
        }
    }

    @Test
    void slotAndLpcHelpListBhyveNames() {
        VmRun slots = VmRun.bhyve("-s", "help");
        assertEquals(0, slots.exitCode, slots::toString);
        for (String name : List.of("hostbridge", "amd_hostbridge", "lpc", "virtio-blk", "virtio-net", "ahci-cd",
                "nvme", "e1000", "fbuf")) {
            assertTrue(slots.stdout.contains(name), "-s help lists " + name);
        }
        VmRun lpc = VmRun.bhyve("-l", "help");
        assertEquals(0, lpc.exitCode, lpc::toString);
        for (String name : List.of("com1", "com4", "bootrom", "pc-testdev")) {
            assertTrue(lpc.stdout.contains(name), "-l help lists " + name);
        }
    }

    @Test
    void configDumpPrintsTheTreeOneKeyPerLine() {
        VmRun run = VmRun.bhyve("-c", "2", "-m", "1G", "-s", "0,hostbridge", "-s", "1,lpc", "-s",
                "2,virtio-blk,disk.img,ro", "-l", "com1,stdio", "-A", "-H", "-P", "-o", "config.dump=1", "vm1");
        assertEquals(1, run.exitCode, "bhyve exits 1 after the dump: " + run);
        List<String> lines = run.stdout.lines().toList();
        for (String expected : List.of("cpus=2", "memory.size=1G", "pci.0.0.0.device=hostbridge",
                "pci.0.1.0.device=lpc", "pci.0.2.0.device=virtio-blk", "pci.0.2.0.path=disk.img",
                "pci.0.2.0.ro=true", "lpc.com1.path=stdio", "acpi_tables=true", "name=vm1")) {
            assertTrue(lines.contains(expected), "dump has " + expected + ":\n" + run.stdout);
        }
        assertTrue(lines.stream().allMatch(l -> l.matches("[^=\\s]+=.*")), run::toString);
    }

    @Test
    void unknownOption() {
        assertOneLineError(VmRun.bhyve("-Q", "vm"), "illegal option -- Q");
    }

    @Test
    void missingVmName() {
        assertOneLineError(VmRun.bhyve("-m", "256M"), "name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"12Q", "0", "-5", "lots"})
    void badMemorySize(String size) {
        assertOneLineError(VmRun.bhyve("-m", size, "vm"), size);
    }

    @Test
    void inconsistentTopology() {
        assertOneLineError(VmRun.bhyve("-c", "3,sockets=2", "vm"), "3");
    }

    @Test
    void badSlot() {
        assertOneLineError(VmRun.bhyve("-s", "32,hostbridge", "vm"), "32");
    }

    @Test
    void missingKernelFile() {
        assertOneLineError(VmRun.bhyve("-s", "0,hostbridge", "-o", "boot.kernel=/nonexistent/kernel", "vm"),
                "/nonexistent/kernel");
    }

    @Test
    void unimplementedEmulationIsRefusedClearly() {
        assertOneLineError(VmRun.bhyve("-s", "0,hostbridge", "-s", "3,hda", "-o",
                "boot.kernel=" + VmRun.testGuest("probe.elf"), "vm"), "hda");
    }

    @Test
    void lpcOnlyOnBusZero() {
        assertOneLineError(VmRun.bhyve("-s", "1:0:0,lpc", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"), "vm"),
                "bus 0");
    }
}
