package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multiboot (version 1) kernels through {@code -o boot.kernel}: the ELF32 test kernel (loaded
 * through its program headers, like kvm-unit-tests' binaries) and its flat twin with the
 * header's address fields. Both report the information structure on COM1 (see
 * src/test/guest/multiboot_main.c).
 */
class MultibootIT {
    private static final String ENVIRON = "ENV=yes\nNR_CPUS=1\n";

    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    private VmRun boot(Path kernel, String cmdline) throws Exception {
        Path initrd = dir.resolve("environ");
        Files.writeString(initrd, ENVIRON);
        return VmRun.bhyve("-m", "128M", "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + kernel,
                "-o", "boot.cmdline=" + cmdline, "-o", "boot.initrd=" + initrd, "mbvm");
    }

    private void assertReport(Path kernel, VmRun run) {
        assertEquals(List.of("magic=2badb002 flags=24d mem_lower=640 mem_upper=130048 cmdline=\"" + kernel
                + " x=1 exit=3\" mods=1 mmap=2 loader=\"jbhyve\""), run.probeLines("multiboot"), run::toString);
        assertEquals(List.of("pe=1 pg=0 if=0"), run.probeLines("mb-cpu"), run::toString);
        assertEquals(List.of("0 a0000 1 size=20", "100000 7f00000 1 size=20"), run.probeLines("mb-mmap"),
                run::toString);
        List<String> image = run.probeLines("mb-image");
        assertEquals(1, image.size(), run::toString);
        long imageEnd = Long.parseLong(image.get(0).replaceAll(".* end=", ""), 16);
        long moduleStart = (imageEnd + 0xFFF) & ~0xFFFL;
        assertEquals(List.of(String.format("0 start=%x end=%x string=\"%s\" data=\"ENV=yes.NR_CPUS=\"", moduleStart,
                moduleStart + ENVIRON.length(), dir.resolve("environ"))), run.probeLines("mb-mod"), run::toString);
        assertEquals(List.of("sig=\"QEMU\" cpus=1 ram=8000000"), run.probeLines("mb-fwcfg"),
                "fw_cfg read as kvm-unit-tests reads it: " + run);
        assertEquals(List.of("3"), run.probeLines("exit"), run::toString);
        assertEquals(7, run.exitCode, run::toString);
    }

    @Tag("core")
    @Test
    void elfKernelGetsTheInformationStructure() throws Exception {
        Path kernel = VmRun.testGuest("multiboot.elf");
        assertReport(kernel, boot(kernel, "x=1 exit=3"));
    }

    @Test
    void flatKernelWithAddressFieldsGetsTheSame() throws Exception {
        Path kernel = VmRun.testGuest("multiboot-aout.bin");
        assertReport(kernel, boot(kernel, "x=1 exit=3"));
    }

    @Test
    void unsupportedRequiredFeatureIsAOneLineError() throws Exception {
        int magic = 0x1BADB002;
        int flags = 0x10;
        byte[] image = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0x40, magic).putInt(0x44, flags).putInt(0x48, -(magic + flags)).array();
        Path kernel = dir.resolve("aout-syms.bin");
        Files.write(kernel, image);
        VmRun run = VmRun.bhyve("-m", "64M", "-o", "boot.kernel=" + kernel, "mbvm");
        assertEquals(4, run.exitCode, run::toString);
        assertEquals(List.of("bhyve: " + kernel + ": multiboot header requires unsupported features (flags 0x10)"),
                run.stderr.lines().toList(), run::toString);
    }

    @Test
    void badChecksumIsNotMultiboot() throws Exception {
        int magic = 0x1BADB002;
        byte[] image = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, magic).putInt(4, 0).putInt(8, -magic + 1).array();
        Path kernel = dir.resolve("badsum.bin");
        Files.write(kernel, image);
        VmRun run = VmRun.bhyve("-m", "64M", "-o", "boot.kernel=" + kernel, "mbvm");
        assertEquals(4, run.exitCode, run::toString);
        assertTrue(run.stderr.contains("neither an ELF kernel nor a Linux bzImage nor a Multiboot kernel"),
                run::toString);
    }
}
