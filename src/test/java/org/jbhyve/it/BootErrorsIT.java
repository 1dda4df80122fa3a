package org.jbhyve.it;

import static org.jbhyve.it.VmRun.assertOneLineError;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One-line errors with status 4 for input found wrong while the machine is built, after KVM has
 * been opened: a kernel that cannot be loaded, nothing to boot, a serial backend that cannot be
 * opened.
 */
class BootErrorsIT {
    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    @Test
    void kernelThatIsNeitherElfNorBzImage() throws Exception {
        Path junk = dir.resolve("junk.bin");
        Files.write(junk, new byte[4096]);
        assertOneLineError(VmRun.bhyve("-o", "boot.kernel=" + junk, "vm"), "neither an ELF kernel nor a Linux bzImage");
    }

    @Test
    void truncatedElf() throws Exception {
        byte[] elf = Files.readAllBytes(VmRun.testGuest("probe.elf"));
        Path cut = dir.resolve("cut.elf");
        Files.write(cut, java.util.Arrays.copyOf(elf, 200));
        assertOneLineError(VmRun.bhyve("-o", "boot.kernel=" + cut, "vm"), "cut.elf");
    }

    @Tag("core")
    @Test
    void nothingToBoot() {
        assertOneLineError(VmRun.bhyve("-s", "0,hostbridge", "vm"), "boot.kernel");
    }

    @Test
    void unusableSerialBackend() {
        assertOneLineError(VmRun.bhyve("-l", "com1,nosuchbackend", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "vm"), "com1");
    }
}
