package org.jbhyve.devices.virtio.block;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.digest.Md5;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioDevice;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * virtio-blk (P3), one request queue. A request (virtio 1.x 5.2.6) is a chain:
 *
 * <pre>
 * le32 type | le32 reserved | le64 sector     device-readable header, 16 bytes
 * data...                                      readable (OUT, DISCARD...) or writable (IN, GET_ID)
 * u8 status                                    last writable byte: 0 OK, 1 IOERR, 2 UNSUPP
 * </pre>
 * Types: 0 IN, 1 OUT, 4 FLUSH, 8 GET_ID (20-byte serial), 11 DISCARD, 13 WRITE_ZEROES (each a
 * list of {le64 sector, le32 num_sectors, le32 flags}). Sectors are always 512 bytes here.
 *
 * <p>The notifying thread (event loop or vCPU) parses every available request and hands it to
 * the backend's asynchronous API in one batch, so many are in flight and none holds a thread
 * while it waits. Completions run on the backend's completion thread: status byte and used
 * entry per request, then one interrupt (if the driver wants it) per run of completions.
 * Requests answered at once (GET_ID, bad ranges, unsupported types) are interrupted for once per
 * kick. A reset bumps a generation so completions of the old session are dropped.
 *
 * <p>Snapshots: the device has no state of its own beyond the queue (the transport's) and the
 * disk (a host file, reopened); the blob records the disk's size and read-only-ness so that a
 * restore onto another disk is refused. {@link #quiesce} stops taking requests and waits until
 * every request taken is completed, its used entry published and the interrupt sent.
 */
public final class VirtioBlock implements VirtioDevice, Snapshottable {
    public static final int F_SIZE_MAX = 1, F_SEG_MAX = 2, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9, F_TOPOLOGY = 10;
    public static final int F_DISCARD = 13, F_WRITE_ZEROES = 14;
    public static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13;
    public static final int S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
    public static final int QUEUE_SIZE = 128;
    public static final int ID_BYTES = 20;
    private static final int SIZE_MAX = 1 << 20;
    private static final int MAX_DISCARD_SEGMENTS = 16;
    private static final long QUIESCE_TIMEOUT_SECONDS = 60;
    private static final HexFormat SERIAL_HEX = HexFormat.of().withUpperCase();

    private final BlockBackend disk;
    private final byte[] config;
    private final byte[] serial;
    private volatile VirtioTransport transport;
    private volatile int generation;
    private final AtomicBoolean usedPending = new AtomicBoolean();
    /** Serialises taking requests from the ring with {@link #quiesce}. */
    private final Object intake = new Object();
    /** Between quiesce and resume: no request is taken (guarded by {@code intake}). */
    private boolean paused;
    /** Requests taken from the ring whose used entry is not added yet. */
    private final AtomicInteger inFlight = new AtomicInteger();

    public VirtioBlock(BlockBackend disk, String serial) {
        this.disk = disk;
        this.config = BlockConfig.build(disk, QUEUE_SIZE - 2, SIZE_MAX);
        this.serial = new byte[ID_BYTES];
        byte[] s = (serial != null ? serial : defaultSerial(disk.path())).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(s, 0, this.serial, 0, Math.min(s.length, ID_BYTES));
        disk.addCompletionListener(this::completionsDelivered);
    }

    /** bhyve's default: "BHYVE-" and the first six bytes of the MD5 of the path, as XXXX-XXXX-XXXX. */
    public static String defaultSerial(String path) {
        byte[] d = Md5.digest(path.getBytes(StandardCharsets.UTF_8));
        StringBuilder serial = new StringBuilder("BHYVE");
        for (int i = 0; i < 6; i++) {
            if (i % 2 == 0) {
                serial.append('-');
            }
            serial.append(SERIAL_HEX.toHexDigits(d[i]));
        }
        return serial.toString();
    }

    @Override
    public int deviceType() {
        return 2;
    }

    @Override
    public int legacyPciDeviceId() {
        return 0x1001;
    }

    @Override
    public int pciClass() {
        return 0x010000; // bhyve: mass storage, SCSI
    }

    @Override
    public long features() {
        long f = 1L << F_SIZE_MAX | 1L << F_SEG_MAX | 1L << F_BLK_SIZE | 1L << F_FLUSH | 1L << F_TOPOLOGY;
        if (disk.readOnly()) {
            f |= 1L << F_RO;
        }
        if (disk.canDelete()) {
            f |= 1L << F_DISCARD | 1L << F_WRITE_ZEROES;
        }
        return f;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int queueMaxSize() {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return BlockConfig.SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size && i < 8; i++) {
            int at = offset + i;
            v |= (at >= 0 && at < config.length ? config[at] & 0xFFL : 0) << (8 * i);
        }
        return v;
    }

    @Override
    public void activate(VirtioTransport transport) {
        this.transport = transport;
    }

    @Override
    public synchronized void reset() {
        generation++;
        transport = null;
    }

    @Override
    public void queueNotified(int queue) {
        VirtioTransport t = transport;
        if (t == null) {
            return;
        }
        synchronized (intake) {
            if (!paused) {
                takeRequests(t, queue);
            }
        }
    }

    /** Pops and starts what the driver made available, at most one ring's worth (holds {@code intake}). */
    private void takeRequests(VirtioTransport t, int queue) {
        Virtqueue q = t.queue(0);
        int gen = generation;
        boolean answered = false;
        // One batch: every request popped here reaches the host kernel in one system call.
        try (BlockBackend.Batch batch = disk.batch()) {
            for (int budget = q.size(); budget > 0; budget--) { // bounded: at most one ring's worth per kick
                DescriptorChain c = q.pop();
                if (c == null) {
                    return;
                }
                answered |= start(q, c, gen);
            }
            disk.submit(() -> queueNotified(queue)); // more left: continue without starving others
        } catch (VirtqueueException e) {
            t.queueBroken(q, e);
        } finally {
            if (answered) {
                t.notifyUsed(q);
            }
        }
    }

    /** Starts one request; returns whether it was answered at once (its used entry is already added). */
    private boolean start(Virtqueue q, DescriptorChain c, int gen) {
        inFlight.incrementAndGet();
        boolean handedToBackend = false;
        try {
            int status = startOrAnswer(q, c, gen);
            handedToBackend = status < 0;
            return status > 0;
        } finally {
            if (!handedToBackend) {
                inFlight.decrementAndGet();
            }
        }
    }

    /** -1: in flight (the backend completes it); 1: answered at once; 0: not answerable (dropped after reset). */
    private int startOrAnswer(Virtqueue q, DescriptorChain c, int gen) {
        BlockRequest r = BlockRequest.parse(c);
        if (r == null) { // no status byte: nothing can be reported, return the buffers
            return answer(q, c, gen, 0) ? 1 : 0;
        }
        int status = switch (r.type()) {
            case T_IN, T_OUT -> transfer(q, c, gen, r);
            case T_FLUSH -> {
                disk.flushAsync(res -> finished(q, c, gen, r, res < 0 ? S_IOERR : S_OK));
                yield -1;
            }
            case T_DISCARD, T_WRITE_ZEROES -> discard(q, c, gen, r, r.type() == T_WRITE_ZEROES);
            case T_GET_ID -> {
                r.fill(serial);
                yield S_OK;
            }
            default -> S_UNSUPP;
        };
        if (status < 0) {
            return -1;
        }
        r.setStatus(status);
        return answer(q, c, gen, r.writtenOnSuccess(status)) ? 1 : 0;
    }

    /** IN/OUT: checks the range against the disk and hands the guest's buffers to the backend. */
    private int transfer(Virtqueue q, DescriptorChain c, int gen, BlockRequest r) {
        long offset = r.sector() << 9;
        long length = r.dataBytes();
        if (!inRange(r.sector(), length) || length % disk.logicalSectorSize() != 0
                || offset % disk.logicalSectorSize() != 0) {
            return S_IOERR;
        }
        BlockBackend.Completion done = res -> finished(q, c, gen, r, res < 0 ? S_IOERR : S_OK);
        if (r.type() == T_IN) {
            disk.readAsync(offset, r.data(), r.dataCount(), done);
        } else {
            if (disk.readOnly()) {
                return S_IOERR;
            }
            disk.writeAsync(offset, r.data(), r.dataCount(), done);
        }
        return -1;
    }

    /**
     * DISCARD/WRITE_ZEROES: the ranges are copied out of guest memory and checked first; then
     * all go to the backend at once, and the request completes when the last does.
     */
    private int discard(Virtqueue q, DescriptorChain c, int gen, BlockRequest r, boolean zero) {
        if (!disk.canDelete()) {
            return disk.readOnly() ? S_IOERR : S_UNSUPP;
        }
        long bytes = r.dataBytes();
        if (bytes % 16 != 0 || bytes / 16 > MAX_DISCARD_SEGMENTS) {
            return S_IOERR;
        }
        int n = (int) (bytes / 16);
        MemorySegment s = MemorySegment.ofArray(r.gather((int) bytes));
        long[] offsets = new long[n];
        long[] lengths = new long[n];
        int ranges = 0;
        for (int i = 0; i < n; i++) {
            long sector = s.get(ValueLayout.JAVA_LONG_UNALIGNED, 16L * i);
            long count = Integer.toUnsignedLong(s.get(ValueLayout.JAVA_INT_UNALIGNED, 16L * i + 8));
            if (!inRange(sector, count << 9) || ((sector << 9) | (count << 9)) % disk.logicalSectorSize() != 0) {
                return S_IOERR;
            }
            if (count > 0) {
                offsets[ranges] = sector << 9;
                lengths[ranges++] = count << 9;
            }
        }
        if (ranges == 0) {
            return S_OK;
        }
        AtomicInteger left = new AtomicInteger(ranges);
        AtomicInteger status = new AtomicInteger(S_OK);
        for (int i = 0; i < ranges; i++) {
            disk.discardAsync(offsets[i], lengths[i], zero, res -> {
                if (res < 0) {
                    status.set(S_IOERR);
                }
                if (left.decrementAndGet() == 0) {
                    finished(q, c, gen, r, status.get());
                }
            });
        }
        return -1;
    }

    private boolean inRange(long sector, long bytes) {
        return sector >= 0 && sector <= (Long.MAX_VALUE >> 9) && bytes >= 0 && (sector << 9) + bytes <= disk.size();
    }

    /** Adds the used entry of a request answered on the notifying thread; the caller interrupts. */
    private boolean answer(Virtqueue q, DescriptorChain c, int gen, int written) {
        if (gen != generation) {
            return false; // the driver reset the device meanwhile (the queue drops late entries too)
        }
        q.addUsed(c.head(), written);
        return true;
    }

    /** A request's backend work ended (on the completion thread): status, used entry, interrupt later. */
    private void finished(Virtqueue q, DescriptorChain c, int gen, BlockRequest r, int status) {
        try {
            if (gen != generation) {
                return; // reset meanwhile: the buffers are no longer the device's to write
            }
            r.setStatus(status);
            if (answer(q, c, gen, r.writtenOnSuccess(status))) {
                usedPending.set(true);
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** After a run of completions: one interrupt for all of them, if the driver wants one. */
    private void completionsDelivered() {
        VirtioTransport t = transport;
        if (usedPending.getAndSet(false) && t != null) {
            t.notifyUsed(t.queue(0));
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /** Layout version 1: i64 disk size in bytes, bool read-only (checked on restore). */
    @Override
    public void saveState(StateWriter out) {
        out.i64(disk.size()).bool(disk.readOnly());
    }

    /** Checks that the disk opened now is the size and kind the snapshot had; nothing else to restore. */
    @Override
    public void restoreState(StateReader in, int version) {
        long size = in.i64();
        boolean readOnly = in.bool();
        if (size != disk.size()) {
            throw new SnapshotException(in.part() + ": the disk " + disk.path() + " has " + disk.size()
                    + " bytes, the snapshot " + size);
        }
        if (readOnly != disk.readOnly()) {
            throw new SnapshotException(in.part() + ": the disk " + disk.path() + " is "
                    + (disk.readOnly() ? "read-only" : "writable") + ", in the snapshot "
                    + (readOnly ? "read-only" : "writable"));
        }
    }

    /**
     * Takes no new request (a kick meanwhile is served on resume), waits until every request
     * taken is completed by the backend with its used entry added, then sends the interrupt
     * the driver asked for. A disk that does not answer within a minute fails the snapshot.
     */
    @Override
    public void quiesce() {
        synchronized (intake) {
            paused = true; // a batch being taken finishes first: its requests are counted
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(QUIESCE_TIMEOUT_SECONDS);
        while (inFlight.get() > 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new SnapshotException("virtio-blk " + disk.path() + ": " + inFlight.get()
                        + " requests still in flight after " + QUIESCE_TIMEOUT_SECONDS + " s");
            }
            LockSupport.parkNanos(100_000);
        }
        completionsDelivered();
    }

    @Override
    public void resumeAfterSnapshot() {
        synchronized (intake) {
            paused = false;
        }
    }

    @Override
    public void close() {
        disk.close();
    }
}
