package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -l bootrom} with the real SeaBIOS (Debian's {@code seabios} package) booting the test
 * boot disks of src/test/guest/bootdisk from virtio-blk: the boot sector reads sectors through
 * INT 13h (LBA and CHS), writes one and reads it back, then exits through port 0xF4. The written
 * sector must reach the image file; {@code bootindex} must choose the disk. Each test boots its
 * own copy of the images, because every boot writes to them.
 */
class FirmwareBootIT {
    static final Path SEABIOS = Path.of("/usr/share/seabios/bios-256k.bin");
    private static final int WRITTEN_SECTOR = 5 * 512;
    private static final byte[] MARKER = "JBT-WRITTEN".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @BeforeAll
    static void kvmAndFirmware() {
        VmRun.requireKvm();
        assertTrue(Files.isReadable(SEABIOS), SEABIOS + " is missing: install Debian's seabios package");
    }

    private Path copy(String image, String as) throws Exception {
        Path to = dir.resolve(as);
        Files.copy(VmRun.testGuest(image), to, StandardCopyOption.REPLACE_EXISTING);
        return to;
    }

    private static VmRun boot(String... devicesAndOptions) {
        List<String> args = new ArrayList<>(List.of("-c", "2", "-m", "128M", "-s", "0,hostbridge", "-s", "1,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-l", "bootrom," + SEABIOS));
        args.addAll(Arrays.asList(devicesAndOptions));
        args.add("fwvm");
        long start = System.nanoTime();
        VmRun run = VmRun.bhyve(args.toArray(String[]::new));
        System.out.printf("SeaBIOS boot to exit: %d ms (%s)%n", (System.nanoTime() - start) / 1_000_000,
                String.join(" ", devicesAndOptions));
        return run;
    }

    private static boolean written(Path image) throws Exception {
        byte[] sector = Arrays.copyOfRange(Files.readAllBytes(image), WRITTEN_SECTOR, WRITTEN_SECTOR + 512);
        return Arrays.equals(Arrays.copyOf(sector, MARKER.length), MARKER) && sector[MARKER.length] == 1;
    }

    private static void assertBootedAndPassed(VmRun run, String banner) {
        List<String> lines = run.probeLines();
        assertTrue(lines.contains(banner), () -> "expected '" + banner + "'\n" + run);
        for (String line : List.of("read ok", "write ok", "done")) {
            assertTrue(lines.contains(line), () -> "expected 'JBT " + line + "'\n" + run);
        }
        assertEquals(1, run.exitCode, "the boot sector exits through port 0xF4 with 0: " + run);
    }

    @Tag("core")
    @Test
    void seabiosBootsAVirtioDiskThatReadsAndWritesThroughInt13() throws Exception {
        Path disk = copy("bootdisk.img", "a.img");
        VmRun run = boot("-s", "3,virtio-blk," + disk);
        assertBootedAndPassed(run, "boot sector dl=0x80");
        assertTrue(written(disk), "the sector written through INT 13h reached the image");
    }

    @Test
    void seabiosBootsAVirtioScsiDisk() throws Exception {
        Path disk = copy("bootdisk.img", "s.img");
        VmRun run = boot("-s", "3,virtio-scsi," + disk);
        assertBootedAndPassed(run, "boot sector dl=0x80");
        assertTrue(written(disk));
    }

    @Test
    void seabiosBootsAnAhciDiskInBothSyntaxes() throws Exception {
        Path disk = copy("bootdisk.img", "h.img");
        assertBootedAndPassed(boot("-s", "3,ahci-hd," + disk), "boot sector dl=0x80");
        assertTrue(written(disk));
        Path other = copy("bootdisk.img", "p.img");
        assertBootedAndPassed(boot("-s", "3,ahci,hd:" + other), "boot sector dl=0x80");
        assertTrue(written(other));
    }

    @Tag("core")
    @Test
    void seabiosBootsAnElToritoCdOnAhciFirstWithBootindex() throws Exception {
        Path disk = copy("bootdisk.img", "a.img");
        Path cd = copy("bootcd.iso", "cd.iso");
        VmRun run = boot("-s", "3,virtio-blk," + disk, "-s", "4,ahci-cd," + cd + ",bootindex=1");
        List<String> lines = run.probeLines();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cdrom boot dl=")), run::toString);
        assertTrue(lines.contains("cdrom read ok") && lines.contains("done"), run::toString);
        assertEquals(1, run.exitCode, run::toString);
        assertTrue(!written(disk), "the disk was not booted");
    }

    @Test
    void seabiosBootsAnNvmeNamespaceWithBhyvesOptions() throws Exception {
        Path disk = copy("bootdisk.img", "n.img");
        assertBootedAndPassed(boot("-s", "3,nvme," + disk), "boot sector dl=0x80");
        assertTrue(written(disk));
        Path tuned = copy("bootdisk.img", "t.img");
        assertBootedAndPassed(boot("-s", "3,nvme," + tuned + ",maxq=4,qsz=256,ioslots=16,sectsz=512,ser=JBHYVE0001"),
                "boot sector dl=0x80");
        assertTrue(written(tuned));
    }

    @Test
    void bootindexChoosesTheDiskEvenInALaterSlot() throws Exception {
        Path a = copy("bootdisk.img", "a.img");
        Path b = copy("bootdisk2.img", "b.img");
        VmRun run = boot("-s", "3,virtio-blk," + a, "-s", "4,virtio-blk," + b + ",bootindex=1");
        assertBootedAndPassed(run, "boot sector disk=B dl=0x80");
        assertTrue(written(b));
        assertTrue(!written(a), "the other disk was not booted");
    }

    @Test
    void withoutBootindexTheLowestSlotBoots() throws Exception {
        Path a = copy("bootdisk.img", "a.img");
        Path b = copy("bootdisk2.img", "b.img");
        VmRun run = boot("-s", "4,virtio-blk," + a, "-s", "3,virtio-blk," + b);
        assertBootedAndPassed(run, "boot sector disk=B dl=0x80");
        assertTrue(written(b) && !written(a));
    }

    @Test
    void withAcpiTheFirmwareInstallsTheTablesAndLogsThroughTheDebugPort() throws Exception {
        Path disk = copy("bootdisk.img", "a.img");
        Path log = dir.resolve("seabios.log");
        VmRun run = boot("-A", "-s", "3,virtio-blk," + disk, "-o", "firmware.debug=" + log);
        assertBootedAndPassed(run, "boot sector dl=0x80");
        String text = Files.readString(log, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("SeaBIOS (version"), text);
        assertTrue(text.contains("Found QEMU fw_cfg"), text);
        assertTrue(text.contains("ACPI: parse DSDT at"), "SeaBIOS found the tables its loader installed:\n" + text);
        assertTrue(text.contains("Booting from Hard Disk"), text);
    }

    @Test
    void theSerialConsoleShowsTheFirmwareWhenAsked() throws Exception {
        Path disk = copy("bootdisk.img", "a.img");
        VmRun run = boot("-s", "3,virtio-blk," + disk, "-o", "firmware.console=com1");
        assertTrue(run.stdout.contains("SeaBIOS (version"), run::toString);
        assertTrue(run.stdout.contains("JBT done"), run::toString);
        assertEquals(1, run.exitCode, run::toString);
    }
}
