package org.jbhyve.devices.virtio.scsi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockIoException;

/**
 * A SCSI direct-access block device (SBC-3, SPC-4) over a {@link BlockBackend}: one logical
 * unit, independent of the transport that carries its commands.
 *
 * <pre>
 * 0x00 TEST UNIT READY          0x03 REQUEST SENSE        0x12 INQUIRY (see ScsiInquiry)
 * 0x1A/0x5A MODE SENSE(6/10)    0x15/0x55 MODE SELECT(6/10) (see ScsiModePages)
 * 0x1B START STOP UNIT          0x25 READ CAPACITY(10)    0x9E/0x10 READ CAPACITY(16)
 * 0x08/0x28/0xA8/0x88 READ(6/10/12/16)    0x0A/0x2A/0xAA/0x8A WRITE(6/10/12/16)
 * 0x2F VERIFY(10)               0x35/0x91 SYNCHRONIZE CACHE(10/16)
 * 0x42 UNMAP                    0x93 WRITE SAME(16)       0xA0 REPORT LUNS (this LUN only)
 * READ/WRITE(10) CDB: 0 opcode  1 RDPROTECT(7-5) DPO(4) FUA(3)  2-5 LBA  7-8 TRANSFER LENGTH
 *   (6): 1-3 LBA (21 bits), 4 length (0 = 256)   (12): 2-5 LBA, 6-9 length   (16): 2-9, 10-13
 * </pre>
 * Errors end in CHECK CONDITION with fixed sense data ({@link ScsiSense}): an unknown opcode is
 * INVALID COMMAND OPERATION CODE; a reserved or unsupported bit INVALID FIELD IN CDB (with the
 * byte's offset); a range past the last block LBA OUT OF RANGE; any write to a read-only image
 * DATA PROTECT / WRITE PROTECTED; a failed host read or write MEDIUM ERROR (UNRECOVERED READ
 * ERROR or WRITE ERROR). Protection information is not supported (RDPROTECT etc. must be 0).
 *
 * <p>Data moves between the command's guest-memory slices and the backend without copies; the
 * block I/O runs on the backend's worker threads, everything else on the caller's thread.
 * FUA, or a write with the write cache disabled through MODE SELECT, is followed by a flush.
 */
public final class ScsiDisk implements AutoCloseable {
    /** The largest READ/WRITE transfer (VPD 0xB0; virtio-scsi's max_sectors is 0xFFFF). */
    static final long MAX_TRANSFER_BYTES = 0xFFFFL * 512;
    static final long MAX_UNMAP_BLOCKS = 0x400000;
    static final int MAX_UNMAP_DESCRIPTORS = 256;
    static final long MAX_WRITE_SAME_BLOCKS = 0x400000;
    /** VPD 0xB1 medium rotation rate 1: a non-rotating medium. */
    public static final int NON_ROTATING = 1;
    private static final int FILL_CHUNK = 1 << 20;

    private final BlockBackend backend;
    private final int lun;
    private final int blockSize;
    private final long blocks;
    private final int physicalExponent;
    private final ScsiInquiry inquiry;
    private final ScsiModePages modes;
    private final AtomicInteger failures = new AtomicInteger();

    /**
     * @param backend      the image (owned: closed with this disk)
     * @param serial       VPD page 0x80 serial number
     * @param lun          the LUN this disk answers at (for REPORT LUNS and its NAA name)
     * @param rotationRate VPD page 0xB1 (1 = non-rotating, else RPM)
     * @throws IllegalArgumentException if the image is smaller than one logical block
     */
    public ScsiDisk(BlockBackend backend, String serial, int lun, int rotationRate) {
        this.backend = backend;
        this.lun = lun;
        this.blockSize = backend.logicalSectorSize();
        this.blocks = backend.size() / blockSize;
        int ratio = Math.max(1, backend.physicalSectorSize() / blockSize);
        this.physicalExponent = Math.min(15, Integer.numberOfTrailingZeros(Integer.highestOneBit(ratio)));
        if (blocks == 0) {
            throw new IllegalArgumentException(backend.path() + " is smaller than one " + blockSize + "-byte block");
        }
        this.inquiry = new ScsiInquiry(this, serial, lun, rotationRate);
        this.modes = new ScsiModePages(this);
    }

    public BlockBackend backend() {
        return backend;
    }

    public int lun() {
        return lun;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Number of logical blocks (the last LBA is one less). */
    public long blocks() {
        return blocks;
    }

    int physicalExponent() {
        return physicalExponent;
    }

    public boolean readOnly() {
        return backend.readOnly();
    }

    /** Whether UNMAP and WRITE SAME with UNMAP may deallocate (not {@code nodelete}, not read-only). */
    public boolean canUnmap() {
        return backend.canDelete();
    }

    /** Whether the write cache is enabled (MODE SELECT of the caching page may turn it off). */
    public boolean writeCacheEnabled() {
        return modes.writeCacheEnabled();
    }

    /** Sets the write cache as MODE SELECT had left it (a snapshot restore). */
    void writeCacheEnabled(boolean on) {
        modes.writeCacheEnabled(on);
    }

    /** Commands that failed with an unexpected exception (a bug; tests expect 0). */
    public int failures() {
        return failures.get();
    }

    /** Logical unit reset: mode parameters back to their defaults. */
    public void reset() {
        modes.reset();
    }

    /**
     * Executes {@code c} and then runs {@code done} exactly once, on this thread for commands
     * that need no I/O and on a backend worker for block I/O. Never throws for a bad command.
     */
    public void execute(ScsiCommand c, Runnable done) {
        Runnable io;
        try {
            io = dispatch(c);
        } catch (RuntimeException e) {
            fail(c, e);
            io = null;
        }
        if (io == null) {
            done.run();
            return;
        }
        Runnable work = io;
        backend.submit(() -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                fail(c, e);
            } finally {
                done.run();
            }
        });
    }

    private void fail(ScsiCommand c, RuntimeException e) {
        failures.incrementAndGet();
        System.err.println("jbhyve: scsi " + backend.path() + ": opcode 0x" + Integer.toHexString(c.opcode())
                + " failed: " + e);
        c.check(ScsiSense.INTERNAL_TARGET_FAILURE);
    }

    /** Finishes {@code c} now, or returns the block I/O that finishes it on a worker. */
    private Runnable dispatch(ScsiCommand c) {
        switch (c.opcode()) {
            case 0x00, 0x1B -> c.good(0); // TEST UNIT READY, START STOP UNIT: always ready
            case 0x03 -> requestSense(c, ScsiSense.NONE);
            case 0x12 -> inquiry.execute(c);
            case 0x1A -> modes.sense(c, false);
            case 0x5A -> modes.sense(c, true);
            case 0x15, 0x55 -> {
                int length = c.opcode() == 0x15 ? c.u8(4) : c.u16(7);
                if (fitsOut(c, length)) {
                    modes.select(c, c.opcode() == 0x55);
                }
            }
            case 0x25 -> readCapacity10(c);
            case 0x9E -> {
                if ((c.u8(1) & 0x1F) == 0x10) {
                    readCapacity16(c);
                } else {
                    c.check(ScsiSense.invalidCdbField(1));
                }
            }
            case 0xA0 -> ScsiTarget.reportLuns(c, new int[] {lun});
            case 0x08, 0x28, 0xA8, 0x88 -> {
                return ScsiBlockIo.readWrite(this, c, false);
            }
            case 0x0A, 0x2A, 0xAA, 0x8A -> {
                return ScsiBlockIo.readWrite(this, c, true);
            }
            case 0x2F -> ScsiBlockIo.verify(this, c);
            case 0x35, 0x91 -> {
                return ScsiBlockIo.synchronizeCache(this, c);
            }
            case 0x42 -> {
                return ScsiBlockIo.unmap(this, c);
            }
            case 0x93 -> {
                return ScsiBlockIo.writeSame(this, c);
            }
            default -> c.check(ScsiSense.INVALID_OPCODE);
        }
        return null;
    }

    /**
     * Whether data-out holds a {@code length}-byte parameter list (and no data-in is offered);
     * if not the command ends as an overrun.
     */
    static boolean fitsOut(ScsiCommand c, long length) {
        if (length > 0 && (c.dataOut().size() < length || !c.dataIn().isEmpty())) {
            c.overrun();
            return false;
        }
        return true;
    }

    /** REQUEST SENSE (SPC-4 6.29): {@code pending} as fixed-format parameter data; DESC=1 is not supported. */
    static void requestSense(ScsiCommand c, ScsiSense pending) {
        if ((c.u8(1) & 0x01) != 0) {
            c.check(ScsiSense.invalidCdbField(1));
        } else {
            c.answer(pending.fixed(), c.u8(4));
        }
    }

    /** READ CAPACITY(10): last LBA (0xFFFFFFFF: use the 16-byte form) and block length. */
    private void readCapacity10(ScsiCommand c) {
        if ((c.u8(8) & 0x01) == 0 && c.u32(2) != 0) {
            c.check(ScsiSense.invalidCdbField(2)); // LOGICAL BLOCK ADDRESS without PMI
            return;
        }
        byte[] d = new byte[8];
        ScsiInquiry.put32(d, 0, Math.min(blocks - 1, 0xFFFFFFFFL));
        ScsiInquiry.put32(d, 4, blockSize);
        c.answer(d, d.length);
    }

    /**
     * READ CAPACITY(16): 0-7 last LBA, 8-11 block length, 12 protection (none), 13 logical
     * blocks per physical block exponent, 14 LBPME(7) LBPRZ(6) lowest aligned LBA.
     */
    private void readCapacity16(ScsiCommand c) {
        byte[] d = new byte[32];
        ScsiInquiry.put32(d, 0, (blocks - 1) >>> 32);
        ScsiInquiry.put32(d, 4, blocks - 1);
        ScsiInquiry.put32(d, 8, blockSize);
        d[13] = (byte) physicalExponent;
        d[14] = (byte) (canUnmap() ? 0x80 : 0);
        c.answer(d, c.u32(10));
    }

    /** Whether [lba, lba + count) lies inside the medium (no overflow for any 64-bit input). */
    boolean inRange(long lba, long count) {
        return lba >= 0 && count >= 0 && lba <= blocks && count <= blocks - lba;
    }

    /** A flush after a write when FUA asked for one or the write cache is off. */
    void writeThrough(boolean fua) throws BlockIoException {
        if (fua || !modes.writeCacheEnabled()) {
            backend.flush();
        }
    }

    /** Writes {@code count} copies of the one-block {@code pattern} from {@code lba}. */
    void fill(long lba, long count, byte[] pattern) throws BlockIoException {
        long bytes = count * blockSize;
        long chunk = Math.min(bytes, Math.max(blockSize, FILL_CHUNK / blockSize * (long) blockSize));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(chunk, 4096);
            for (long at = 0; at < chunk; at += blockSize) {
                MemorySegment.copy(MemorySegment.ofArray(pattern), 0, buf, at, blockSize);
            }
            for (long done = 0; done < bytes; done += chunk) {
                long n = Math.min(chunk, bytes - done);
                backend.write(lba * blockSize + done, new MemorySegment[] {buf.asSlice(0, n)}, 1);
            }
        }
    }

    @Override
    public void close() {
        backend.close();
    }
}
