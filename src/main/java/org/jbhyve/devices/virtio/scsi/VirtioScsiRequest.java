package org.jbhyve.devices.virtio.scsi;

import java.lang.foreign.MemorySegment;
import org.jbhyve.virtio.DescriptorChain;

/**
 * One request-queue chain (virtio 1.2 5.6.6.1), split into its parts. The driver lays it out as
 *
 * <pre>
 * device-readable   u8 lun[8] | le64 id | u8 task_attr | u8 prio | u8 crn | u8 cdb[cdb_size]
 *                   | u8 dataout[]
 * device-writable   le32 sense_len | le32 residual | le16 status_qualifier | u8 status
 *                   | u8 response | u8 sense[sense_size] | u8 datain[]
 * </pre>
 * with cdb_size and sense_size from the config space (32 and 96 unless the driver changed
 * them). The LUN field is {@code 01 TT LL LL 00 00 00 00}: byte 0 is 1, byte 1 the target, bytes
 * 2-3 the LUN in SAM flat (0x40 | high bits) or peripheral (00) addressing. Descriptors may cut
 * the structures anywhere (virtio 1.x 2.6.4), so the header is gathered across buffers and the
 * data buffers are slices that start wherever the header ends.
 *
 * <p>A chain too short for the header or the response is malformed: it is answered with
 * response FAILURE in whatever response bytes it has.
 */
final class VirtioScsiRequest {
    static final int REQUEST_FIXED = 19;
    static final int RESPONSE_FIXED = 12;

    private final byte[] header;
    private final int cdbSize;
    private final int senseSize;
    private final ScsiData response;
    private final ScsiData dataIn;
    private final ScsiData dataOut;
    private final boolean malformed;

    private VirtioScsiRequest(byte[] header, int cdbSize, int senseSize, ScsiData response, ScsiData dataIn,
                              ScsiData dataOut, boolean malformed) {
        this.header = header;
        this.cdbSize = cdbSize;
        this.senseSize = senseSize;
        this.response = response;
        this.dataIn = dataIn;
        this.dataOut = dataOut;
        this.malformed = malformed;
    }

    static VirtioScsiRequest parse(DescriptorChain c, int cdbSize, int senseSize) {
        int readable = c.readableCount();
        int headerSize = REQUEST_FIXED + cdbSize;
        int responseSize = RESPONSE_FIXED + senseSize;
        ScsiData[] in = split(c, 0, readable, headerSize);
        ScsiData[] out = split(c, readable, c.count(), responseSize);
        boolean malformed = in[0].size() < headerSize || out[0].size() < responseSize;
        byte[] header = java.util.Arrays.copyOf(in[0].read(headerSize), headerSize); // zero-padded if short
        return new VirtioScsiRequest(header, cdbSize, senseSize, out[0], out[1], in[1], malformed);
    }

    /** Buffers {@code from..to} of the chain cut after {@code at} bytes: {head, tail}. */
    static ScsiData[] split(DescriptorChain c, int from, int to, long at) {
        MemorySegment[] head = new MemorySegment[to - from];
        MemorySegment[] tail = new MemorySegment[to - from];
        int nh = 0;
        int nt = 0;
        long left = at;
        for (int i = from; i < to; i++) {
            MemorySegment s = c.segment(i);
            if (left >= s.byteSize()) {
                head[nh++] = s;
                left -= s.byteSize();
            } else if (left > 0) {
                head[nh++] = s.asSlice(0, left);
                tail[nt++] = s.asSlice(left);
                left = 0;
            } else {
                tail[nt++] = s;
            }
        }
        return new ScsiData[] {new ScsiData(head, nh), new ScsiData(tail, nt)};
    }

    boolean malformed() {
        return malformed;
    }

    /** Whether the LUN field names target {@code target}'s address space (byte 0 = 1, SAM addressing). */
    boolean addresses(int target) {
        int method = header[2] & 0xC0;
        return (header[0] & 0xFF) == 1 && (header[1] & 0xFF) == target && (header[2] == 0 || method == 0x40);
    }

    /** The 14-bit LUN of bytes 2-3. */
    int lun() {
        return ((header[2] & 0xFF) << 8 | (header[3] & 0xFF)) & 0x3FFF;
    }

    /** The driver's tag for this command (the id TMFs name). */
    long tag() {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (header[8 + i] & 0xFF);
        }
        return v;
    }

    ScsiCommand command() {
        byte[] cdb = new byte[cdbSize];
        System.arraycopy(header, REQUEST_FIXED, cdb, 0, cdbSize);
        return new ScsiCommand(cdb, dataIn, dataOut);
    }

    long dataBytes() {
        return Math.max(dataIn.size(), dataOut.size());
    }

    /**
     * Writes the response for {@code command} (status, sense, residual; response OK or
     * OVERRUN); returns the bytes written into the chain (response structure plus data-in).
     */
    int respond(ScsiCommand command) {
        if (command.isOverrun()) {
            return respond(VirtioScsi.S_OVERRUN, 0, null, dataBytes(), 0);
        }
        return respond(VirtioScsi.S_OK, command.status(), command.sense(), command.residual(),
                command.dataInWritten());
    }

    /** A response without SCSI status (BAD_TARGET, FAILURE...), nothing transferred. */
    int respond(int virtioResponse) {
        return respond(virtioResponse, 0, null, dataBytes(), 0);
    }

    private int respond(int virtioResponse, int status, ScsiSense sense, long residual, long dataWritten) {
        byte[] r = new byte[RESPONSE_FIXED + senseSize];
        int senseLength = 0;
        if (sense != null) {
            byte[] fixed = sense.fixed();
            senseLength = Math.min(fixed.length, senseSize);
            System.arraycopy(fixed, 0, r, RESPONSE_FIXED, senseLength);
        }
        putLe32(r, 0, senseLength);
        putLe32(r, 4, Math.min(residual, 0xFFFFFFFFL));
        r[10] = (byte) status;
        r[11] = (byte) virtioResponse;
        int written = response.copyFrom(r, r.length);
        return (int) Math.min(Integer.MAX_VALUE, written + dataWritten);
    }

    private static void putLe32(byte[] b, int at, long v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }
}
