package org.jbhyve.devices.virtio.block;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jbhyve.backend.block.BlockBackend;

/**
 * struct virtio_blk_config (virtio 1.x 5.2.4), little-endian, 60 bytes:
 *
 * <pre>
 *  0 le64 capacity (512-byte sectors)    8 le32 size_max          12 le32 seg_max
 * 16 geometry: le16 cylinders, u8 heads, u8 sectors              20 le32 blk_size
 * 24 topology: u8 physical_block_exp, u8 alignment_offset, le16 min_io_size, le32 opt_io_size
 * 32 u8 writeback  33 u8 unused  34 le16 num_queues
 * 36 le32 max_discard_sectors  40 le32 max_discard_seg  44 le32 discard_sector_alignment
 * 48 le32 max_write_zeroes_sectors  52 le32 max_write_zeroes_seg  56 u8 write_zeroes_may_unmap
 * </pre>
 */
final class BlockConfig {
    static final int SIZE = 60;

    private BlockConfig() {}

    static byte[] build(BlockBackend disk, int segMax, int sizeMax) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int logical = disk.logicalSectorSize();
        int ratio = disk.physicalSectorSize() / logical;
        b.putLong(0, disk.size() / 512);
        b.putInt(8, sizeMax);
        b.putInt(12, segMax);
        b.putInt(20, logical);
        b.put(24, (byte) Integer.numberOfTrailingZeros(ratio));
        b.put(25, (byte) 0);
        b.putShort(26, (short) ratio);
        b.putInt(28, 0);
        b.putShort(34, (short) 1);
        long sectors = Math.min(disk.size() / 512, 0xFFFFFFFFL & ~((logical / 512) - 1L));
        if (disk.canDelete()) {
            b.putInt(36, (int) sectors);
            b.putInt(40, 1);
            b.putInt(44, logical / 512);
            b.putInt(48, (int) sectors);
            b.putInt(52, 1);
            b.put(56, (byte) 0);
        }
        return b.array();
    }
}
