package org.jbhyve.devices.virtio.scsi;

/**
 * struct virtio_scsi_config (virtio 1.2 5.6.4), little-endian, 36 bytes:
 *
 * <pre>
 *  0 le32 num_queues       number of request queues
 *  4 le32 seg_max          most data segments in one command
 *  8 le32 max_sectors      largest transfer in 512-byte sectors
 * 12 le32 cmd_per_lun      commands the driver may queue per LUN
 * 16 le32 event_info_size  size of an event queue buffer (16: le32 event, u8 lun[8], le32 reason)
 * 20 le32 sense_size       sense bytes in each response (96)     driver-writable
 * 24 le32 cdb_size         CDB bytes in each request (32)        driver-writable
 * 28 le16 max_channel (0)  30 le16 max_target  32 le32 max_lun
 * </pre>
 * sense_size and cdb_size are the only fields a driver may write; they fix where the data
 * buffers start in every later request and go back to 96 and 32 on reset. Writes of values
 * above {@link #MAX_SIZE} are ignored (nothing real needs them, and they would cost memory
 * per request).
 *
 * <p>Threads: read and written from vCPU threads, read per request on the queue threads.
 */
final class VirtioScsiConfig {
    static final int SIZE = 36;
    static final int SENSE_SIZE = 96;
    static final int CDB_SIZE = 32;
    static final int MAX_SIZE = 256;
    static final int EVENT_INFO_SIZE = 16;
    static final int MAX_SECTORS = 0xFFFF;
    static final int CMD_PER_LUN = 128;

    private final int numQueues;
    private final int segMax;
    private final int maxTarget;
    private final int maxLun;
    private volatile int senseSize = SENSE_SIZE;
    private volatile int cdbSize = CDB_SIZE;

    VirtioScsiConfig(int numQueues, int segMax, int maxTarget, int maxLun) {
        this.numQueues = numQueues;
        this.segMax = segMax;
        this.maxTarget = maxTarget;
        this.maxLun = maxLun;
    }

    int senseSize() {
        return senseSize;
    }

    int cdbSize() {
        return cdbSize;
    }

    void reset() {
        senseSize = SENSE_SIZE;
        cdbSize = CDB_SIZE;
    }

    /** The driver-written sizes from a snapshot (each already checked to be at most {@link #MAX_SIZE}). */
    void restore(int sense, int cdb) {
        senseSize = sense;
        cdbSize = cdb;
    }

    private byte[] bytes() {
        byte[] b = new byte[SIZE];
        int[] words = {numQueues, segMax, MAX_SECTORS, CMD_PER_LUN, EVENT_INFO_SIZE, senseSize, cdbSize};
        for (int i = 0; i < words.length; i++) {
            putLe(b, 4 * i, words[i], 4);
        }
        putLe(b, 28, 0, 2);
        putLe(b, 30, maxTarget, 2);
        putLe(b, 32, maxLun, 4);
        return b;
    }

    /** Little-endian read of up to 8 bytes; bytes outside the structure read 0. */
    long read(int offset, int size) {
        byte[] b = bytes();
        long v = 0;
        for (int i = 0; i < size && i < 8; i++) {
            int at = offset + i;
            v |= (at >= 0 && at < SIZE ? b[at] & 0xFFL : 0) << (8 * i);
        }
        return v;
    }

    /** A driver write: only whole or partial writes inside sense_size (20) and cdb_size (24) count. */
    void write(int offset, int size, long value) {
        byte[] b = bytes();
        for (int i = 0; i < size && i < 8; i++) {
            int at = offset + i;
            if (at >= 20 && at < 28) {
                b[at] = (byte) (value >>> (8 * i));
            }
        }
        int sense = (int) getLe(b, 20);
        int cdb = (int) getLe(b, 24);
        if (Integer.compareUnsigned(sense, MAX_SIZE) <= 0) {
            senseSize = sense;
        }
        if (Integer.compareUnsigned(cdb, MAX_SIZE) <= 0) {
            cdbSize = cdb;
        }
    }

    private static void putLe(byte[] b, int at, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long getLe(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            v |= (b[at + i] & 0xFFL) << (8 * i);
        }
        return v;
    }
}
