package org.jbhyve.devices.virtio.scsi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The data buffer of one SCSI command in one direction: an ordered list of host views of guest
 * memory (the scatter-gather list a transport built from its descriptors, already bounds-checked
 * against guest RAM). Block I/O hands a prefix of the list straight to the backend; the small
 * answers of INQUIRY, MODE SENSE and the like are copied in from the heap.
 *
 * <p>Not thread-safe: one command is executed by one thread at a time.
 */
public final class ScsiData {
    /** No buffer in this direction. */
    public static final ScsiData EMPTY = new ScsiData(new MemorySegment[0], 0);

    private final MemorySegment[] segments;
    private final int count;
    private final long size;

    /** The first {@code count} of {@code segments}; zero-length ones are dropped. */
    public ScsiData(MemorySegment[] segments, int count) {
        MemorySegment[] kept = new MemorySegment[count];
        int n = 0;
        long total = 0;
        for (int i = 0; i < count; i++) {
            if (segments[i].byteSize() > 0) {
                kept[n++] = segments[i];
                total += segments[i].byteSize();
            }
        }
        this.segments = kept;
        this.count = n;
        this.size = total;
    }

    public static ScsiData of(MemorySegment... segments) {
        return new ScsiData(segments, segments.length);
    }

    /** Total bytes of the buffer. */
    public long size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /**
     * Segments covering exactly the first {@code bytes} bytes (the last one cut), for the block
     * backend. Requires {@code 0 <= bytes <= size()}.
     */
    public MemorySegment[] prefix(long bytes) {
        if (bytes < 0 || bytes > size) {
            throw new IllegalArgumentException("prefix " + bytes + " of " + size);
        }
        MemorySegment[] out = new MemorySegment[count];
        int n = 0;
        long left = bytes;
        for (int i = 0; i < count && left > 0; i++) {
            long take = Math.min(left, segments[i].byteSize());
            out[n++] = take == segments[i].byteSize() ? segments[i] : segments[i].asSlice(0, take);
            left -= take;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** Copies the first {@code length} bytes of {@code src} in (cut at the buffer's end); returns the bytes copied. */
    public int copyFrom(byte[] src, int length) {
        int at = 0;
        int want = Math.min(length, src.length);
        for (int i = 0; i < count && at < want; i++) {
            int take = (int) Math.min(segments[i].byteSize(), want - at);
            MemorySegment.copy(src, at, segments[i], ValueLayout.JAVA_BYTE, 0, take);
            at += take;
        }
        return at;
    }

    /** The first {@code length} bytes (fewer if the buffer is shorter). */
    public byte[] read(int length) {
        byte[] out = new byte[(int) Math.min(length, size)];
        int at = 0;
        for (int i = 0; i < count && at < out.length; i++) {
            int take = (int) Math.min(segments[i].byteSize(), out.length - at);
            MemorySegment.copy(segments[i], ValueLayout.JAVA_BYTE, 0, out, at, take);
            at += take;
        }
        return out;
    }
}
