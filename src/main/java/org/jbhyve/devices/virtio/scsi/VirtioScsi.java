package org.jbhyve.devices.virtio.scsi;

import java.util.concurrent.atomic.AtomicInteger;
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
 */
public final class VirtioScsi implements VirtioDevice {
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
        session = new ScsiSession(transport, target, config, queueCount(), failures);
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
    public void close() {
        reset();
        target.close();
    }
}
