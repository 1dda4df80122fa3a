package org.jbhyve.devices.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/** fw_cfg through its ports as SeaBIOS and kvm-unit-tests drive it: selector, data, DMA. */
class FwCfgTest {
    private static final long RAM = 1 << 20;
    private final GuestMemory memory = new GuestMemory(List.of(
            new GuestMemory.Region(0, Arena.ofAuto().allocate(RAM, 4096))));
    private final byte[] e820 = new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    private final FwCfg fwcfg = FwCfg.builder()
            .item16(0x05, 3)
            .item64(0x03, 256L << 20)
            .file("etc/e820", e820)
            .file("bootorder", "/pci@i0cf8/scsi@3/disk@0,0\0".getBytes(StandardCharsets.US_ASCII))
            .build(memory);

    private void select(int key) {
        fwcfg.write(0, 2, key);
    }

    private byte[] readData(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) fwcfg.read(1, 1);
        }
        return b;
    }

    @Test
    void signatureAndFeaturesThroughTheDataPort() {
        select(FwCfg.SIGNATURE);
        assertEquals("QEMU", new String(readData(4), StandardCharsets.US_ASCII));
        select(FwCfg.ID);
        assertArrayEquals(new byte[] {3, 0, 0, 0}, readData(4), "traditional interface and DMA");
    }

    @Test
    void legacyItemsAreLittleEndianAndReadZeroPastTheirEnd() {
        select(0x05);
        assertArrayEquals(new byte[] {3, 0, 0, 0}, readData(4));
        select(0x03);
        assertEquals(256L << 20, ByteBuffer.wrap(readData(8)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
        select(0x1234);
        assertArrayEquals(new byte[4], readData(4), "an unknown selector is an empty item");
    }

    @Test
    void reselectingRewindsTheItem() {
        select(FwCfg.SIGNATURE);
        readData(2);
        select(FwCfg.SIGNATURE);
        assertEquals('Q', fwcfg.read(1, 1));
    }

    @Test
    void directoryListsFilesInNameOrderWithBigEndianFields() {
        select(FwCfg.FILE_DIR);
        ByteBuffer dir = ByteBuffer.wrap(readData(4 + 64 * 2));
        assertEquals(2, dir.getInt());
        String[] expected = {"bootorder", "etc/e820"};
        int[] sizes = {27, 20};
        for (int i = 0; i < 2; i++) {
            assertEquals(sizes[i], dir.getInt());
            int select = dir.getShort() & 0xFFFF;
            assertEquals(FwCfg.FILE_FIRST + i, select);
            assertEquals(fwcfg.selectorOf(expected[i]), select);
            dir.getShort();
            byte[] name = new byte[56];
            dir.get(name);
            assertEquals(expected[i], new String(name, StandardCharsets.US_ASCII).replace("\0", ""));
        }
        select(fwcfg.selectorOf("etc/e820"));
        assertArrayEquals(e820, readData(20));
    }

    @Test
    void dmaSignatureReadsAsQemuCfg() {
        assertEquals(FwCfg.DMA_SIGNATURE, fwcfg.read(4, 8));
        assertEquals(0x51454D55L, fwcfg.read(4, 4));
        assertEquals(0x20434647L, fwcfg.read(8, 4));
    }

    /** Writes a big-endian FWCfgDmaAccess at {@code at} and starts it as SeaBIOS does (low half only). */
    private int dma(long at, int control, int length, long address) {
        memory.putInt(at, Integer.reverseBytes(control));
        memory.putInt(at + 4, Integer.reverseBytes(length));
        memory.putLong(at + 8, Long.reverseBytes(address));
        fwcfg.write(8, 4, Integer.reverseBytes((int) at));
        return Integer.reverseBytes(memory.getInt(at));
    }

    @Test
    void dmaSelectAndReadCopiesTheFileAndZeroFillsPastItsEnd() {
        memory.write(0x2000, new byte[32]);
        memory.putLong(0x2000 + 20, -1L);
        int control = fwcfg.selectorOf("etc/e820") << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ;
        assertEquals(0, dma(0x1000, control, 28, 0x2000), "completed without error");
        assertArrayEquals(e820, memory.read(0x2000, 20));
        assertArrayEquals(new byte[8], memory.read(0x2014, 8), "bytes past the item's end are zeros");
    }

    @Test
    void dmaSkipThenReadContinuesWhereTheOffsetIs() {
        assertEquals(0, dma(0x1000, fwcfg.selectorOf("etc/e820") << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_SKIP, 16, 0));
        assertEquals(0, dma(0x1000, FwCfg.DMA_READ, 4, 0x3000));
        assertArrayEquals(new byte[] {17, 18, 19, 20}, memory.read(0x3000, 4));
    }

    @Test
    void dmaWithASixtyFourBitAddressWrite() {
        memory.putInt(0x1000, Integer.reverseBytes(FwCfg.SIGNATURE << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ));
        memory.putInt(0x1004, Integer.reverseBytes(4));
        memory.putLong(0x1008, Long.reverseBytes(0x4000));
        fwcfg.write(4, 8, Long.reverseBytes(0x1000));
        assertEquals(0, memory.getInt(0x1000));
        assertEquals("QEMU", new String(memory.read(0x4000, 4), StandardCharsets.US_ASCII));
    }

    @Test
    void aTargetOutsideRamFailsOnlyThatTransfer() {
        int control = FwCfg.SIGNATURE << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ;
        assertEquals(FwCfg.DMA_ERROR, dma(0x1000, control, 16, RAM - 8));
        assertEquals(FwCfg.DMA_ERROR, dma(0x1000, control, -1, 0));
        assertEquals(2, fwcfg.failedTransfers());
        assertEquals(0, dma(0x1000, control, 4, 0x5000), "the device still works");
    }

    @Test
    void writesToItemsFail() {
        assertEquals(FwCfg.DMA_ERROR, dma(0x1000, FwCfg.DMA_WRITE, 4, 0x5000));
    }

    @Test
    void aDescriptorOutsideRamIsIgnored() {
        fwcfg.write(4, 4, Integer.reverseBytes(0x1));
        fwcfg.write(8, 4, 0);
        assertEquals(1, fwcfg.failedTransfers());
        fwcfg.write(8, 4, Integer.reverseBytes((int) (RAM - 8)));
        assertEquals(2, fwcfg.failedTransfers());
    }

    @Test
    void reservedKeysAndDuplicateFilesAreBugs() {
        assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().item16(FwCfg.FILE_DIR, 1));
        assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().item16(0x20, 1));
        assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().file("a", new byte[0]).file("a", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().file("x".repeat(56), new byte[0]));
    }
}
