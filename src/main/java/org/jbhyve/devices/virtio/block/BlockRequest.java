package org.jbhyve.devices.virtio.block;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jbhyve.virtio.DescriptorChain;

/**
 * A parsed virtio-blk request: header fields, the data buffers between header and status (as
 * slices of guest RAM, possibly cutting descriptors), and where the status byte goes. The
 * header may span descriptors; framing is not assumed (virtio 1.x 2.6.4).
 */
final class BlockRequest {
    private static final int HEADER = 16;

    private final int type;
    private final long sector;
    private final MemorySegment[] data;
    private final int dataCount;
    private final long dataBytes;
    private final MemorySegment status;

    private BlockRequest(int type, long sector, MemorySegment[] data, int dataCount, long dataBytes,
                         MemorySegment status) {
        this.type = type;
        this.sector = sector;
        this.data = data;
        this.dataCount = dataCount;
        this.dataBytes = dataBytes;
        this.status = status;
    }

    /** Null when the chain has no writable byte for the status (the request cannot be answered). */
    static BlockRequest parse(DescriptorChain c) {
        int n = c.count();
        int lastWritable = -1;
        for (int i = n - 1; i >= c.readableCount(); i--) {
            if (c.length(i) > 0) {
                lastWritable = i;
                break;
            }
        }
        if (lastWritable < 0) {
            return null;
        }
        MemorySegment last = c.segment(lastWritable);
        MemorySegment status = last.asSlice(last.byteSize() - 1, 1);
        if (c.readableBytes() < HEADER) {
            status.set(ValueLayout.JAVA_BYTE, 0, (byte) VirtioBlock.S_IOERR);
            return new BlockRequest(-1, 0, new MemorySegment[0], 0, 0, status);
        }
        // Header: the first 16 readable bytes, wherever the descriptors cut them.
        byte[] header = new byte[HEADER];
        int got = 0;
        int i = 0;
        long skipInData = 0;
        for (; i < c.readableCount() && got < HEADER; i++) {
            MemorySegment s = c.segment(i);
            int take = (int) Math.min(s.byteSize(), HEADER - got);
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, header, got, take);
            got += take;
            if (got == HEADER) {
                skipInData = take;
            }
        }
        MemorySegment h = MemorySegment.ofArray(header);
        int type = h.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        long sector = h.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        // Data: for reads and GET_ID the writable bytes before the status byte; otherwise the
        // readable bytes after the header.
        boolean deviceWrites = type == VirtioBlock.T_IN || type == VirtioBlock.T_GET_ID;
        MemorySegment[] data = new MemorySegment[n];
        int count = 0;
        long bytes = 0;
        if (deviceWrites) {
            for (int j = c.readableCount(); j <= lastWritable; j++) {
                MemorySegment s = c.segment(j);
                if (j == lastWritable) {
                    s = s.asSlice(0, s.byteSize() - 1);
                }
                if (s.byteSize() > 0) {
                    data[count++] = s;
                    bytes += s.byteSize();
                }
            }
        } else {
            int first = i - 1;
            for (int j = first; j < c.readableCount(); j++) {
                MemorySegment s = c.segment(j);
                if (j == first) {
                    s = s.asSlice(skipInData);
                }
                if (s.byteSize() > 0) {
                    data[count++] = s;
                    bytes += s.byteSize();
                }
            }
        }
        return new BlockRequest(type, sector, data, count, bytes, status);
    }

    int type() {
        return type;
    }

    long sector() {
        return sector;
    }

    MemorySegment[] data() {
        return data;
    }

    int dataCount() {
        return dataCount;
    }

    long dataBytes() {
        return dataBytes;
    }

    void setStatus(int value) {
        status.set(ValueLayout.JAVA_BYTE, 0, (byte) value);
    }

    /** Bytes the device wrote into the chain: the data of a successful read, plus the status byte. */
    int writtenOnSuccess(int status) {
        boolean reads = type == VirtioBlock.T_IN || type == VirtioBlock.T_GET_ID;
        return (int) Math.min(Integer.MAX_VALUE - 1, (status == VirtioBlock.S_OK && reads ? dataBytes : 0)) + 1;
    }

    /** Copies {@code bytes} (zero-padded or cut) into the data buffers. */
    void fill(byte[] bytes) {
        int at = 0;
        for (int i = 0; i < dataCount; i++) {
            MemorySegment s = data[i];
            for (long k = 0; k < s.byteSize(); k++) {
                s.set(ValueLayout.JAVA_BYTE, k, at < bytes.length ? bytes[at] : 0);
                at++;
            }
        }
    }

    /** The first {@code n} data bytes (for small payloads such as discard ranges). */
    byte[] gather(int n) {
        byte[] out = new byte[n];
        int at = 0;
        for (int i = 0; i < dataCount && at < n; i++) {
            int take = (int) Math.min(data[i].byteSize(), n - at);
            MemorySegment.copy(data[i], ValueLayout.JAVA_BYTE, 0, out, at, take);
            at += take;
        }
        return out;
    }
}
