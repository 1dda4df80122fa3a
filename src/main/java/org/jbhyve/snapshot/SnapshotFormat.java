package org.jbhyve.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The container's fixed parts (the whole layout is in this package's documentation): the
 * 64-byte header and the state records.
 *
 * <pre>
 * header, little-endian:
 *   0  u8[8] magic "JBHYVSNP"        8  u32 format version (1)    12 u32 header size (64)
 *   16 u64 state section offset      24 u64 state section length
 *   32 u64 RAM section offset (4 KiB aligned)                     40 u64 RAM section length
 *   48 u32 CRC32C of the state section   52 u32 RAM index length   56 u32 0
 *   60 u32 CRC32C of header bytes 0-59
 * state section: u32 record count, then per record:
 *   u16 name length, name (UTF-8), u32 layout version, u32 blob length, blob
 * </pre>
 */
final class SnapshotFormat {
    static final byte[] MAGIC = "JBHYVSNP".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_SIZE = 64;

    /** What the header says about the file. */
    record Header(long stateOffset, long stateLength, long ramOffset, long ramLength, int stateCrc, int indexLength) {}

    private SnapshotFormat() {}

    static ByteBuffer encode(Header h) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(HEADER_SIZE).putLong(h.stateOffset()).putLong(h.stateLength())
                .putLong(h.ramOffset()).putLong(h.ramLength()).putInt(h.stateCrc()).putInt(h.indexLength()).putInt(0);
        b.putInt(crc(b.array(), 0, 60));
        return b.flip();
    }

    /** Decodes and checks a header; {@code where} names the file in messages. */
    static Header decode(ByteBuffer b, String where) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new SnapshotException(where + ": not a jbhyve snapshot");
        }
        int version = b.getInt();
        if (version != VERSION) {
            throw new SnapshotException(where + ": snapshot format " + version + " is not one this jbhyve reads ("
                    + VERSION + ")");
        }
        if (b.getInt() != HEADER_SIZE || crc(b.array(), 0, 60) != b.getInt(60)) {
            throw new SnapshotException(where + ": the snapshot header is corrupt");
        }
        Header h = new Header(b.getLong(16), b.getLong(24), b.getLong(32), b.getLong(40), b.getInt(48), b.getInt(52));
        if (h.stateOffset() != HEADER_SIZE || h.stateLength() < 4 || h.stateLength() > Integer.MAX_VALUE - 64
                || h.ramOffset() < h.stateOffset() + h.stateLength() || h.ramLength() < 0
                || h.ramOffset() % PageRuns.PAGE != 0 || h.indexLength() < 4 || h.indexLength() > h.ramLength()) {
            throw new SnapshotException(where + ": the snapshot header is corrupt");
        }
        return h;
    }

    static int crc(byte[] bytes, int offset, int length) {
        CRC32C c = new CRC32C();
        c.update(bytes, offset, length);
        return (int) c.getValue();
    }
}
