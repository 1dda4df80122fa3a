package org.jbhyve.devices.virtio.scsi;

/**
 * One SCSI command as a transport delivers it to a logical unit, transport-independent (SAM-5
 * "execute command": CDB, data-in and data-out buffers in; status, sense data and the number of
 * bytes moved out), plus the one transport-level failure a logical unit can detect itself:
 * buffers that do not fit the command (data overrun or wrong direction).
 *
 * <p>The CDB (command descriptor block) starts with the operation code; its group (the top
 * three bits) fixes the length: 6 bytes (group 0), 10 (groups 1, 2), 16 (group 4), 12 (group 5).
 * Multi-byte fields are big-endian. A transport may pass more CDB bytes than the command uses;
 * reads past the end of a short CDB return 0.
 *
 * <p>Not thread-safe: one thread executes a command; the completion callback runs on that
 * thread after the last change.
 */
public final class ScsiCommand {
    private final byte[] cdb;
    private final ScsiData dataIn;
    private final ScsiData dataOut;
    private int status = ScsiSense.GOOD;
    private ScsiSense sense;
    private long transferred;
    private boolean overrun;

    /**
     * @param cdb     the CDB bytes (copied)
     * @param dataIn  what the device may write (device to initiator)
     * @param dataOut what the device may read (initiator to device)
     */
    public ScsiCommand(byte[] cdb, ScsiData dataIn, ScsiData dataOut) {
        this.cdb = cdb.clone();
        this.dataIn = dataIn;
        this.dataOut = dataOut;
    }

    public int opcode() {
        return u8(0);
    }

    /** CDB byte {@code i} as 0-255 (0 past the end). */
    public int u8(int i) {
        return i >= 0 && i < cdb.length ? cdb[i] & 0xFF : 0;
    }

    /** Big-endian 16-bit CDB field at {@code i}. */
    public int u16(int i) {
        return u8(i) << 8 | u8(i + 1);
    }

    /** Big-endian 24-bit CDB field at {@code i}. */
    public int u24(int i) {
        return u8(i) << 16 | u16(i + 1);
    }

    /** Big-endian 32-bit CDB field at {@code i}, unsigned. */
    public long u32(int i) {
        return (long) u16(i) << 16 | u16(i + 2);
    }

    /** Big-endian 64-bit CDB field at {@code i} (may be negative: an LBA beyond 2^63). */
    public long u64(int i) {
        return u32(i) << 32 | u32(i + 4);
    }

    public int cdbLength() {
        return cdb.length;
    }

    public ScsiData dataIn() {
        return dataIn;
    }

    public ScsiData dataOut() {
        return dataOut;
    }

    /** Ends with GOOD status, {@code bytes} moved through the data buffer. */
    public void good(long bytes) {
        status = ScsiSense.GOOD;
        sense = null;
        transferred = bytes;
    }

    /** Ends with CHECK CONDITION and {@code why} as sense data; nothing counted as moved. */
    public void check(ScsiSense why) {
        status = ScsiSense.CHECK_CONDITION;
        sense = why;
        transferred = 0;
    }

    /** The buffers cannot hold what the command moves: a transport error, no SCSI status. */
    public void overrun() {
        overrun = true;
        transferred = 0;
    }

    /** Copies {@code answer} into data-in, cut at {@code allocation} bytes and at the buffer end; GOOD. */
    public void answer(byte[] answer, long allocation) {
        int n = (int) Math.min(answer.length, Math.max(0, allocation));
        good(dataIn.copyFrom(answer, n));
    }

    public int status() {
        return status;
    }

    /** Sense data for CHECK CONDITION, else null. */
    public ScsiSense sense() {
        return sense;
    }

    public boolean isOverrun() {
        return overrun;
    }

    /** Bytes moved through the data buffer of the command's direction. */
    public long transferred() {
        return transferred;
    }

    /** Bytes written into data-in (what a transport reports as written to the initiator). */
    public long dataInWritten() {
        return dataIn.isEmpty() ? 0 : transferred;
    }

    /** Buffer bytes not moved: the data buffer's size less {@link #transferred()}. */
    public long residual() {
        return Math.max(dataIn.size(), dataOut.size()) - transferred;
    }
}
