package org.jbhyve.pci;

/**
 * A function's configuration space: 4 KiB (the first 256 bytes are what mechanism #1 reaches),
 * with a write mask per byte so read-only fields stay read-only.
 *
 * <pre>
 * type 0 header: 0x00 vendor  0x02 device  0x04 command  0x06 status  0x08 revision
 *                0x09 prog-if 0x0A subclass 0x0B class   0x0C cache line 0x0D latency
 *                0x0E header type (bit 7 = multifunction)  0x10-0x27 BAR0-5
 *                0x2C subsystem vendor  0x2E subsystem id  0x34 capabilities pointer
 *                0x3C interrupt line  0x3D interrupt pin (1 = INTA)
 * </pre>
 * Not thread-safe on its own; {@link PciFunction} serialises access.
 */
public final class PciConfigSpace {
    public static final int SIZE = 4096;
    public static final int VENDOR = 0x00, DEVICE = 0x02, COMMAND = 0x04, STATUS = 0x06, REVISION = 0x08;
    public static final int PROG_IF = 0x09, HEADER_TYPE = 0x0E, BAR0 = 0x10, SUBSYSTEM_VENDOR = 0x2C;
    public static final int SUBSYSTEM = 0x2E, CAPABILITIES = 0x34, INTERRUPT_LINE = 0x3C, INTERRUPT_PIN = 0x3D;
    public static final int COMMAND_IO = 0x1, COMMAND_MEMORY = 0x2, COMMAND_BUS_MASTER = 0x4;
    public static final int COMMAND_INTX_DISABLE = 0x400;
    public static final int STATUS_CAPABILITIES = 0x10, STATUS_INTERRUPT = 0x08;

    private final byte[] bytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private int nextCapability = 0x40;

    public PciConfigSpace(int vendor, int device, int classCode, int revision) {
        put16(VENDOR, vendor);
        put16(DEVICE, device);
        bytes[REVISION] = (byte) revision;
        bytes[PROG_IF] = (byte) classCode;
        bytes[PROG_IF + 1] = (byte) (classCode >>> 8);
        bytes[PROG_IF + 2] = (byte) (classCode >>> 16);
        setWritable(COMMAND, 2, 0x0507);   // I/O, memory, bus master, SERR, INTx disable
        setWritable(0x0C, 2, 0xFFFF);      // cache line size, latency timer
        setWritable(INTERRUPT_LINE, 1, 0xFF);
    }

    public int get8(int offset) {
        return Byte.toUnsignedInt(bytes[offset]);
    }

    public int get16(int offset) {
        return get8(offset) | get8(offset + 1) << 8;
    }

    public int get32(int offset) {
        return get16(offset) | get16(offset + 2) << 16;
    }

    /** Device-side write: ignores the write mask. */
    public void put8(int offset, int value) {
        bytes[offset] = (byte) value;
    }

    public void put16(int offset, int value) {
        put8(offset, value);
        put8(offset + 1, value >>> 8);
    }

    public void put32(int offset, int value) {
        put16(offset, value);
        put16(offset + 2, value >>> 16);
    }

    /** Makes {@code mask}'s bits of the {@code width}-byte field at {@code offset} guest-writable. */
    public void setWritable(int offset, int width, long mask) {
        for (int i = 0; i < width; i++) {
            writable[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    /** Guest read of {@code size} bytes (unaligned reads are assembled byte by byte). */
    public long read(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size && offset + i < SIZE; i++) {
            v |= (long) get8(offset + i) << (8 * i);
        }
        return v;
    }

    /** Guest write: only writable bits change. */
    public void write(int offset, int size, long value) {
        for (int i = 0; i < size && offset + i < SIZE; i++) {
            int mask = Byte.toUnsignedInt(writable[offset + i]);
            int old = get8(offset + i);
            int incoming = (int) (value >>> (8 * i)) & 0xFF;
            bytes[offset + i] = (byte) ((old & ~mask) | (incoming & mask));
        }
    }

    /** All 4 KiB, for a snapshot. */
    public byte[] snapshotBytes() {
        return bytes.clone();
    }

    /**
     * Replaces all 4 KiB with a snapshot's. The write masks are the function's own (it was built
     * from the same command line), so read-only fields must match them: a snapshot whose
     * identity fields (vendor, device, class) differ belongs to another device.
     */
    public void restoreBytes(byte[] saved) {
        if (saved.length != SIZE) {
            throw new IllegalArgumentException("config space of " + saved.length + " bytes");
        }
        System.arraycopy(saved, 0, bytes, 0, SIZE);
    }

    public int command() {
        return get16(COMMAND);
    }

    /**
     * Appends a capability of {@code length} bytes (id and next pointer included) to the list
     * and returns its offset; the caller fills the body with put8/put16/put32.
     */
    public int addCapability(int id, int length) {
        int at = nextCapability;
        if (at + length > 0x100) {
            throw new IllegalStateException("no room for capability " + id);
        }
        int previous = get8(CAPABILITIES);
        if (previous == 0) {
            put8(CAPABILITIES, at);
        } else {
            int last = previous;
            while (get8(last + 1) != 0) {
                last = get8(last + 1);
            }
            put8(last + 1, at);
        }
        put8(at, id);
        put8(at + 1, 0);
        put16(STATUS, get16(STATUS) | STATUS_CAPABILITIES);
        nextCapability = (at + length + 3) & ~3;
        return at;
    }
}
