package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.LegacyLpcParser;
import org.jbhyve.config.LegacySlotParser;
import org.jbhyve.memory.MemoryMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -l bootrom's settings, the boot order from bootindex, and the ROM file checks. */
class FirmwareBootConfigTest {
    @TempDir
    Path dir;

    private static ConfigTree tree(List<String> slots, List<String> lpc) {
        ConfigTree t = new ConfigTree();
        t.set("name", "vm1");
        for (String s : slots) {
            LegacySlotParser.parse(t, s);
        }
        for (String l : lpc) {
            LegacyLpcParser.parse(t, l);
        }
        return t;
    }

    @Test
    void aBootRomTurnsOnQemusFwCfgAndExcludesAKernel() {
        MachineSpec spec = MachineSpec.from(tree(List.of("0,hostbridge", "1,lpc"), List.of("bootrom,/rom.bin,/vars.fd")));
        assertEquals("/rom.bin", spec.bootrom());
        assertEquals("/vars.fd", spec.bootvars());
        assertTrue(spec.fwCfg());
        ConfigTree withKernel = tree(List.of(), List.of("bootrom,/rom.bin"));
        withKernel.set("boot.kernel", "/vmlinuz");
        assertThrows(ConfigException.class, () -> MachineSpec.from(withKernel));
        assertThrows(ConfigException.class, () -> MachineSpec.from(tree(List.of(), List.of("bootrom,/rom.bin", "fwcfg,bhyve"))));
        assertTrue(MachineSpec.from(tree(List.of(), List.of())).fwCfg(), "Multiboot kernels read fw_cfg too");
        assertFalse(MachineSpec.from(tree(List.of(), List.of("fwcfg,bhyve"))).fwCfg());
    }

    @Test
    void multibootKernelsGetAcpiTablesUnlessTurnedOff() throws IOException {
        Path kernel = dir.resolve("mb.bin");
        byte[] image = new byte[8192];
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(64, 0x1BADB002).putInt(68, 0).putInt(72, -0x1BADB002);
        Files.write(kernel, image);
        ConfigTree t = tree(List.of(), List.of("fwcfg,qemu"));
        t.set("boot.kernel", kernel.toString());
        assertTrue(MachineSpec.from(t).acpi());
        t.set("acpi_tables", "false");
        assertFalse(MachineSpec.from(t).acpi());
        Path plain = dir.resolve("plain.bin");
        Files.write(plain, new byte[8192]);
        ConfigTree other = tree(List.of(), List.of());
        other.set("boot.kernel", plain.toString());
        assertFalse(MachineSpec.from(other).acpi(), "other kernels follow bhyve: -A turns ACPI on");
    }

    @Test
    void bootindexComesFirstThenSlotOrder() {
        ConfigTree t = tree(List.of("0,hostbridge", "2,virtio-blk,/a.img", "3,virtio-blk,/b.img,bootindex=1",
                "4:1,virtio-blk,/c.img,bootindex=0", "5,virtio-net,tap0", "6,e1000,tap1,bootindex=7",
                "7,ahci,hd:/d.img,cd:/e.iso", "8,nvme,/f.img", "9,virtio-scsi,/g.img"), List.of());
        List<String> paths = BootOrder.paths(MachineSpec.from(t).pciSlots(), t);
        assertEquals(List.of("/pci@i0cf8/scsi@4,1/disk@0,0", "/pci@i0cf8/scsi@3/disk@0,0",
                "/pci@i0cf8/ethernet@6", "/pci@i0cf8/scsi@2/disk@0,0",
                "/pci@i0cf8/pci8086,2922@7/drive@0/disk@0", "/pci@i0cf8/pci8086,2922@7/drive@1/disk@0",
                "/pci@i0cf8/pci8086,5845@8/namespace@1,0", "/pci@i0cf8/scsi@9/channel@0/disk@0,0"), paths);
        assertArrayEquals("a\nb\0".getBytes(StandardCharsets.US_ASCII), BootOrder.file(List.of("a", "b")));
    }

    @Test
    void withoutBootindexSlotsBootInSlotOrderWhateverTheirOrderOnTheCommandLine() {
        ConfigTree t = tree(List.of("4,virtio-blk,/a.img", "3,virtio-blk,/b.img", "2:1,nvme,/c.img"), List.of());
        assertEquals(List.of("/pci@i0cf8/pci8086,5845@2,1/namespace@1,0", "/pci@i0cf8/scsi@3/disk@0,0",
                "/pci@i0cf8/scsi@4/disk@0,0"), BootOrder.paths(MachineSpec.from(t).pciSlots(), t));
    }

    @Test
    void anAhciCdWithBootindexComesFirst() {
        ConfigTree t = tree(List.of("2,virtio-blk,/disk.img", "31,ahci-cd,/x.iso,bootindex=1"), List.of());
        assertEquals("1", t.get("pci.0.31.0.port.0.bootindex").orElseThrow(), "ahci-cd keeps it on its port");
        assertEquals(List.of("/pci@i0cf8/pci8086,2922@1f/drive@0/disk@0", "/pci@i0cf8/scsi@2/disk@0,0"),
                BootOrder.paths(MachineSpec.from(t).pciSlots(), t));
    }

    @Test
    void badOrRepeatedBootindexIsOneLine() {
        ConfigTree twice = tree(List.of("2,virtio-blk,/a.img,bootindex=1", "3,virtio-blk,/b.img,bootindex=1"), List.of());
        MachineException e = assertThrows(MachineException.class,
                () -> BootOrder.paths(MachineSpec.from(twice).pciSlots(), twice));
        assertEquals("pci.0.3.0: bootindex 1 is already used by pci.0.2.0", e.getMessage());
        ConfigTree bad = tree(List.of("2,virtio-blk,/a.img,bootindex=first"), List.of());
        assertThrows(MachineException.class, () -> BootOrder.paths(MachineSpec.from(bad).pciSlots(), bad));
    }

    @Test
    void e820FileHasTwentyBytesPerRange() {
        byte[] e820 = FirmwareConfig.e820(MemoryMap.forSize(5L << 30));
        assertEquals(3 * 20, e820.length);
        ByteBuffer b = ByteBuffer.wrap(e820).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getLong(0));
        assertEquals(0xA0000, b.getLong(8));
        assertEquals(1, b.getInt(16));
        assertEquals(MemoryMap.HIGHMEM_BASE, b.getLong(40));
        assertEquals(2L << 30, b.getLong(48));
    }

    @Test
    void romSizeMustBeWholePagesAndAtMostSixteenMiB() throws IOException {
        assertEquals(256 * 1024, BootRom.checkedSize(sized("ok.bin", 256 * 1024)));
        assertEquals("bootrom " + dir.resolve("odd.bin") + ": size 5000 is not a multiple of 4 KiB",
                assertThrows(MachineException.class, () -> BootRom.checkedSize(sized("odd.bin", 5000))).getMessage());
        assertThrows(MachineException.class, () -> BootRom.checkedSize(sized("empty.bin", 0)));
        assertThrows(MachineException.class, () -> BootRom.checkedSize(sized("big.bin", (16 << 20) + 4096)));
        assertEquals("bootrom /nonexistent/rom: No such file or directory",
                assertThrows(MachineException.class, () -> BootRom.open("/nonexistent/rom")).getMessage());
        assertThrows(MachineException.class, () -> BootRom.open(dir.toString()));
        assertThrows(MachineException.class, () -> VarsFlash.check("/nonexistent/vars.fd"));
        Path oddVars = sized("odd.fd", 5000);
        assertEquals("bootvars " + oddVars + ": size 5000 is not a multiple of 4 KiB",
                assertThrows(MachineException.class, () -> VarsFlash.check(oddVars.toString())).getMessage());
    }

    private Path sized(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        assertTrue(Files.size(p) == size);
        return p;
    }
}
