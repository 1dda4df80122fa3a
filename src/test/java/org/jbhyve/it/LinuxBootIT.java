package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Linux x86 boot protocol: a bzImage (32-bit entry) and a vmlinux without a PVH note (64-bit entry). */
class LinuxBootIT {
    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    private VmRun boot(String kernel, String cmdline) throws Exception {
        Path initrd = dir.resolve("initrd.img");
        byte[] data = new byte[3 * 4096 + 123];
        byte[] text = "INITRD42".getBytes();
        System.arraycopy(text, 0, data, 0, text.length);
        Files.write(initrd, data);
        return VmRun.bhyve("-m", "128M", "-s", "0,hostbridge", "-l", "com1,stdio", "-l", "pc-testdev",
                "-o", "boot.kernel=" + VmRun.testGuest(kernel), "-o", "boot.initrd=" + initrd,
                "-o", "boot.cmdline=" + cmdline, "linuxvm");
    }

    private static void assertBootParams(VmRun run, String protocol, String cmdline) {
        assertEquals(List.of(protocol), run.probeLines("protocol"), run::toString);
        assertEquals(List.of(cmdline), run.probeLines("cmdline"), run::toString);
        assertEquals(List.of("0 a0000 1", "100000 7f00000 1"), run.probeLines("mem"), run::toString);
        List<String> initrd = run.probeLines("initrd");
        assertEquals(1, initrd.size(), run::toString);
        String[] f = initrd.get(0).split(" ");
        assertEquals("307b", f[1], "initrd size");
        assertEquals("INITRD42", f[2], "initrd contents");
        long address = Long.parseLong(f[0], 16);
        assertEquals(0, address % 4096, "initrd is page aligned");
        assertEquals(true, address + 0x307b <= 128L << 20, "initrd lies in RAM");
    }

    @Tag("core")
    @Test
    void bzImageIsEnteredThroughThe32BitBootProtocol() throws Exception {
        VmRun run = boot("bzimage.bin", "root=/dev/vda console=ttyS0 action=exit:3");
        assertEquals(7, run.exitCode, run::toString);
        assertBootParams(run, "linux32", "root=/dev/vda console=ttyS0 action=exit:3");
    }

    @Test
    void vmlinuxWithoutPvhNoteIsEnteredInLongMode() throws Exception {
        VmRun run = boot("vmlinux64.elf", "quiet action=exit:4");
        assertEquals(9, run.exitCode, run::toString);
        assertBootParams(run, "linux64", "quiet action=exit:4");
    }
}
