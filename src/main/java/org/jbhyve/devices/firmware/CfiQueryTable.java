package org.jbhyve.devices.firmware;

/**
 * The Common Flash Interface query table (JEDEC JESD68) of {@link CfiFlash}: what a guest reads,
 * one byte per byte address, after writing the CFI QUERY command (0x98).
 *
 * <p>Layout, by byte address (multi-byte fields little-endian):
 * <pre>
 * 0x10-0x12  "QRY"
 * 0x13-0x14  primary command set: 0x0001, Intel/Sharp extended
 * 0x15-0x16  address of the primary extended table: 0x0031
 * 0x17-0x1A  alternate command set and its table: none (0)
 * 0x1B-0x1E  Vcc min/max (BCD volts: 4.5, 5.5), Vpp min/max (0: no Vpp pin)
 * 0x1F-0x22  typical timeouts, 2^n: byte program (us), buffer write (us), block erase (ms),
 *            chip erase (ms); 0 means "not supported"
 * 0x23-0x26  maximum timeouts, 2^n times the typical ones
 * 0x27       device size: 2^n bytes
 * 0x28-0x29  interface: 0x0000, x8 asynchronous
 * 0x2A-0x2B  largest buffered write, 2^n bytes (0: buffered writes are not offered)
 * 0x2C       number of erase block regions: 1 (uniform blocks)
 * 0x2D-0x30  region 1: number of blocks - 1 (16 bits), block size / 256 (16 bits)
 * 0x31-0x33  "PRI", the Intel primary extended table
 * 0x34-0x35  its version, ASCII "1" "0"
 * 0x36-0x3E  optional features, functions after suspend, block status mask, Vcc/Vpp optimum: 0
 * </pre>
 *
 * The values follow QEMU's pflash_cfi01 with three corrections that only a CFI-reading guest sees:
 * the device size is rounded up to a power of two (QEMU stores the count of trailing zero bits of
 * the size, wrong for sizes such as OVMF's 528 KiB), the interface is x8 only (the device is byte
 * wide), and the buffered-write fields are 0 because the write-to-buffer command (0xE8) is not
 * modelled; Linux's cfi_cmdset_0001, for one, uses buffered writes only when their timeout is
 * non-zero. Addresses past the table read 0.
 */
final class CfiQueryTable {
    /** Bytes of the table; addresses at or above it read 0. */
    static final int LENGTH = 0x3F;

    private CfiQueryTable() {
    }

    /**
     * Builds the table for a uniform device of {@code blocks} blocks of {@code blockSize} bytes.
     *
     * @param blocks    1 to 65536
     * @param blockSize a multiple of 256 no larger than 0xFFFF * 256
     */
    static byte[] build(int blocks, int blockSize) {
        if (blocks < 1 || blocks > 0x10000 || blockSize < 256 || blockSize % 256 != 0
                || blockSize / 256 > 0xFFFF) {
            throw new IllegalArgumentException("no CFI geometry for " + blocks + " blocks of " + blockSize + " bytes");
        }
        long size = (long) blocks * blockSize;
        byte[] t = new byte[LENGTH];
        t[0x10] = 'Q';
        t[0x11] = 'R';
        t[0x12] = 'Y';
        t[0x13] = 0x01;
        t[0x15] = 0x31;
        t[0x1B] = 0x45;
        t[0x1C] = 0x55;
        t[0x1F] = 0x07;
        t[0x21] = 0x0A;
        t[0x23] = 0x04;
        t[0x25] = 0x04;
        t[0x27] = (byte) (64 - Long.numberOfLeadingZeros(size - 1));
        t[0x2C] = 0x01;
        t[0x2D] = (byte) (blocks - 1);
        t[0x2E] = (byte) ((blocks - 1) >>> 8);
        t[0x2F] = (byte) (blockSize >>> 8);
        t[0x30] = (byte) (blockSize >>> 16);
        t[0x31] = 'P';
        t[0x32] = 'R';
        t[0x33] = 'I';
        t[0x34] = '1';
        t[0x35] = '0';
        return t;
    }
}
