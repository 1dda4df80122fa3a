package org.jbhyve.devices.virtio.scsi;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.virtio.VirtioDevice;
import org.jbhyve.virtio.VirtioTransport;

/**
 * virtio-scsi (virtio 1.2 section 5.6), P8: a SCSI host adapter whose one target (0) holds the
 * logical units of a {@link ScsiTarget}. Transitional PCI id 1af4:1004, class 010000 (mass
 * storage, SCSI), virtio device type 8.
 *
 * <pre>
 * queue 0        control: TMFs and AN queries (ScsiControlQueue)
 * queue 1        event: the driver's buffers are kept; no event is ever sent
 * queues 2..n+1  requests (num_queues of them): one command per chain (VirtioScsiRequest)
 * config         VirtioScsiConfig (num_queues, seg_max, max_sectors, sense/cdb sizes...)
 * </pre>
 * No feature bits are offered: no INOUT (bidirectional) commands, no HOTPLUG or CHANGE events,
 * no T10 protection information.
 *
 * <p>Requests for any target other than 0, or with a LUN field not starting with 1, get the
 * virtio response BAD_TARGET; LUNs of target 0 that hold no disk are answered by the target
 * (INQUIRY qualifier 3, LOGICAL UNIT NOT SUPPORTED), as Linux's and SeaBIOS's scans expect.
 * Task attributes and priorities are accepted and not enforced: commands run concurrently and
 * the driver orders what it needs ordered by waiting for completions, as Linux does.
 *
 * <p>On FreeBSD bhyve passes the commands to the CAM target layer ({@code /dev/cam/ctl}); here
 * the target is emulated ({@link ScsiDisk}) over block backends.
 *
 * <p>Snapshots cover the device model only (the transport saves queues, features and status):
 * see {@link #saveState}. {@link #quiesce} stops taking chains and waits until every command and
 * control request already taken is answered in its used ring (interrupt included); chains the
 * driver makes available meanwhile stay on the rings, for {@link #resumeAfterSnapshot} or, after
 * a restore, for the transport to kick every queue once it has activated the device again.
 */
public final class VirtioScsi implements VirtioDevice, Snapshottable {
    public static final int CONTROL = 0, EVENT = 1, FIRST_REQUEST = 2;
    public static final int QUEUE_SIZE = 128;
    /** The one target this adapter has. */
    public static final int TARGET = 0;
    public static final int F_INOUT = 0, F_HOTPLUG = 1, F_CHANGE = 2, F_T10_PI = 3;
    /** Virtio response codes (the "response" byte of a command or TMF). */
    public static final int S_OK = 0, S_OVERRUN = 1, S_ABORTED = 2, S_BAD_TARGET = 3, S_RESET = 4, S_BUSY = 5;
    public static final int S_TRANSPORT_FAILURE = 6, S_TARGET_FAILURE = 7, S_NEXUS_FAILURE = 8, S_FAILURE = 9;
    public static final int S_FUNCTION_COMPLETE = 0, S_FUNCTION_SUCCEEDED = 10, S_FUNCTION_REJECTED = 11;
    public static final int S_INCORRECT_LUN = 12;
    public static final int MAX_REQUEST_QUEUES = 16;

    private final ScsiTarget target;
    private final int requestQueues;
    private final VirtioScsiConfig config;
    private final AtomicInteger failures = new AtomicInteger();
    private final Activity activity = new Activity();
    private volatile ScsiSession session;

    /**
     * @param target        the logical units of target 0 (owned: closed with this device)
     * @param requestQueues number of request queues, 1 to {@link #MAX_REQUEST_QUEUES}
     */
    public VirtioScsi(ScsiTarget target, int requestQueues) {
        if (requestQueues < 1 || requestQueues > MAX_REQUEST_QUEUES) {
            throw new IllegalArgumentException("virtio-scsi: 1 to " + MAX_REQUEST_QUEUES + " request queues, not "
                    + requestQueues);
        }
        this.target = target;
        this.requestQueues = requestQueues;
        this.config = new VirtioScsiConfig(requestQueues, QUEUE_SIZE - 2, TARGET, ScsiTarget.MAX_LUN);
    }

    public ScsiTarget target() {
        return target;
    }

    /** Requests and control chains that failed with an unexpected exception, on every LUN (a bug; tests expect 0). */
    public int failures() {
        return failures.get() + target.failures();
    }

    /** Commands started and not yet published (0 when idle; tests). */
    public int inProgress() {
        ScsiSession s = session;
        return s == null ? 0 : s.tasks().inProgress();
    }

    @Override
    public int deviceType() {
        return 8;
    }

    @Override
    public int legacyPciDeviceId() {
        return 0x1004;
    }

    @Override
    public int pciClass() {
        return 0x010000;
    }

    @Override
    public long features() {
        return 0;
    }

    @Override
    public int queueCount() {
        return FIRST_REQUEST + requestQueues;
    }

    @Override
    public int queueMaxSize() {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return VirtioScsiConfig.SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        config.write(offset, size, value);
    }

    @Override
    public synchronized void activate(VirtioTransport transport) {
        if (session != null) {
            session.close();
        }
        session = new ScsiSession(transport, target, config, queueCount(), failures, activity);
    }

    @Override
    public synchronized void reset() {
        if (session != null) {
            session.close();
            session = null;
        }
        config.reset();
        target.resetAll();
    }

    @Override
    public void queueNotified(int queue) {
        ScsiSession s = session;
        if (s != null) {
            s.notified(queue);
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /** Stops taking chains and waits until everything taken is answered (all sessions, old ones too). */
    @Override
    public void quiesce() {
        activity.pauseAndDrain();
    }

    /** Takes chains again, starting with those the driver queued while the device was quiesced. */
    @Override
    public void resumeAfterSnapshot() {
        activity.resume();
        ScsiSession s = session;
        if (s != null) {
            s.serveAll();
        }
    }

    /**
     * The layout (the driver-writable config fields and each logical unit's state):
     * <pre>
     * i32 sense_size  i32 cdb_size
     * u16 number of LUNs, each: u16 LUN, i64 blocks, i32 block size (compared on restore),
     *                           bool write cache enabled (MODE SELECT's WCE)
     * </pre>
     * No unit attention or other pending sense is kept by these logical units, so there is none to save.
     */
    @Override
    public void saveState(StateWriter out) {
        out.i32(config.senseSize()).i32(config.cdbSize());
        int[] luns = target.lunNumbers();
        out.u16(luns.length);
        for (int lun : luns) {
            ScsiDisk disk = target.lun(lun);
            out.u16(lun).i64(disk.blocks()).i32(disk.blockSize()).bool(disk.writeCacheEnabled());
        }
    }

    /**
     * Restores {@link #saveState}'s state; a LUN set, or a disk size, that differs from this
     * target's is one {@link SnapshotException} naming the LUN and the difference.
     */
    @Override
    public void restoreState(StateReader in, int version) {
        int sense = in.intIn(0, VirtioScsiConfig.MAX_SIZE, "sense_size");
        int cdb = in.intIn(0, VirtioScsiConfig.MAX_SIZE, "cdb_size");
        int[] luns = target.lunNumbers();
        int n = in.u16();
        int[] saved = new int[n];
        boolean[] writeCache = new boolean[n];
        for (int i = 0; i < n; i++) {
            saved[i] = in.u16();
            long blocks = in.i64();
            int blockSize = in.i32();
            writeCache[i] = in.bool();
            ScsiDisk disk = target.lun(saved[i]);
            if (disk == null) {
                throw new SnapshotException(in.part() + ": the snapshot has LUN " + saved[i] + ", the target has LUNs "
                        + Arrays.toString(luns));
            }
            if (blocks != disk.blocks() || blockSize != disk.blockSize()) {
                throw new SnapshotException(in.part() + ": LUN " + saved[i] + " has " + disk.blocks() + " blocks of "
                        + disk.blockSize() + " bytes, the snapshot " + blocks + " blocks of " + blockSize + " bytes");
            }
        }
        if (!Arrays.equals(saved, luns)) {
            throw new SnapshotException(in.part() + ": the target has LUNs " + Arrays.toString(luns)
                    + ", the snapshot " + Arrays.toString(saved));
        }
        config.restore(sense, cdb);
        for (int i = 0; i < n; i++) {
            target.lun(saved[i]).writeCacheEnabled(writeCache[i]);
        }
    }

    @Override
    public void close() {
        reset();
        target.close();
    }
}
