package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** virtio-blk, virtio-rnd and virtio-console as the probe guest's PCI scan sees them. */
class VirtioIT {
    private static String probe;

    @TempDir
    Path dir;

    @BeforeAll
    static void guest() {
        VmRun.requireKvm();
        probe = VmRun.testGuest("probe.elf").toString();
    }

    @Tag("core")
    @Test
    void probeGuestSeesTheTransitionalVirtioFunctionsWithBhyvesClasses() throws Exception {
        Path disk = dir.resolve("disk.img");
        Files.write(disk, new byte[1 << 20]);
        Path sock = dir.resolve("console.sock");
        VmRun run = VmRun.bhyve("-c", "1", "-m", "128M", "-s", "0,hostbridge", "-s", "2,virtio-blk," + disk,
                "-s", "3,virtio-rnd", "-s", "4,virtio-console,port1=" + sock, "-s", "31,lpc", "-l", "com1,stdio",
                "-l", "pc-testdev", "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action=exit:0", "vm");
        assertEquals(1, run.exitCode, run::toString);
        assertEquals(List.of("00:00.0 1275:1275 class 060000 hdr 00", "00:02.0 1af4:1001 class 010000 hdr 00",
                "00:03.0 1af4:1005 class 100000 hdr 00", "00:04.0 1af4:1003 class 070000 hdr 00",
                "00:1f.0 8086:7000 class 060100 hdr 00"), run.probeLines("pci"), run::toString);
    }

    @Test
    void missingDiskImageIsAOneLineErrorWithStatus4() {
        VmRun run = VmRun.bhyve("-s", "0,hostbridge", "-s", "2,virtio-blk," + dir.resolve("missing.img"),
                "-o", "boot.kernel=" + probe, "vm");
        assertEquals(4, run.exitCode, run::toString);
        assertTrue(run.stderr.contains("missing.img"), run.stderr);
        assertEquals(1, run.stderr.strip().lines().count(), run.stderr);
    }
}
