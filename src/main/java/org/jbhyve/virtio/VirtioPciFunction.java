package org.jbhyve.virtio;

import static org.jbhyve.virtio.VirtioPci.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The virtio PCI transport as a transitional device: the legacy (0.9.5) register block on I/O
 * BAR0 with the legacy device id, and the virtio 1.x interface on memory BAR4 found through
 * vendor capabilities, on one function (register maps in {@link VirtioPci}). A driver uses one
 * or the other: a driver that negotiates VERSION_1 is modern, any other is legacy.
 *
 * <p>Notifications: writes to the legacy notify register and to the modern notify area reach
 * {@link #notifyQueue} either through the bus handlers (a vCPU exit) or, when the machine
 * provides {@link GuestDoorbells}, through ioeventfds registered wherever the BARs are placed
 * (re-registered in {@link #barMoved}).
 *
 * <p>Register accesses are serialised on this object; notifications and completions are not
 * (they go straight to the device and its queues).
 *
 * <p>Snapshots: the function saves its config space and BARs, the transport registers, every
 * queue's layout and ring positions, the interrupt state and, nested, the device model's state
 * (layout in {@link #saveState}). {@link #quiesce} lets the device take what the driver made
 * available, then closes the doorbells and brings the device's own threads to rest.
 */
public final class VirtioPciFunction extends PciFunction implements AutoCloseable, Snapshottable {
    private static final long RING_FEATURES = 1L << F_INDIRECT_DESC | 1L << F_EVENT_IDX;

    private final VirtioDevice device;
    private final Virtqueue[] queues;
    private final VirtioInterrupts interrupts;
    private final GuestDoorbells doorbells;
    private final long offered;
    private final List<GuestDoorbells.Registration> legacyBells = new ArrayList<>();
    private final List<GuestDoorbells.Registration> modernBells = new ArrayList<>();
    private final Transport transport = new Transport();
    private int status;
    private long driverFeatures;
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private int queueSelect;
    private int configVector = NO_VECTOR;
    private int configGeneration;
    private volatile boolean active;
    /** Set between {@link #quiesce} and {@link #resumeAfterSnapshot}: doorbells are ignored. */
    private volatile boolean quiesced;
    /** Doorbell calls into the device in progress (quiesce waits for them to leave). */
    private final AtomicInteger notifying = new AtomicInteger();

    public VirtioPciFunction(VirtioDevice device, GuestMemory memory, PciInterrupts pci, GuestDoorbells doorbells,
                             boolean msix) {
        super(new PciConfigSpace(VENDOR, device.legacyPciDeviceId(), device.pciClass(), 0));
        this.device = device;
        this.doorbells = doorbells;
        this.offered = device.features() | RING_FEATURES | 1L << F_VERSION_1;
        this.queues = new Virtqueue[device.queueCount()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new Virtqueue(memory, i, device.queueMaxSize());
        }
        config.put16(PciConfigSpace.SUBSYSTEM_VENDOR, VENDOR);
        config.put16(PciConfigSpace.SUBSYSTEM, device.deviceType());
        config.put8(PciConfigSpace.INTERRUPT_PIN, 1);
        this.interrupts = new VirtioInterrupts(config, pci, msix, queues.length + 1);
        addVendorCap(CAP_COMMON, COMMON_OFFSET, COMMON_LENGTH, 16);
        addVendorCap(CAP_ISR, ISR_OFFSET, ISR_LENGTH, 16);
        addVendorCap(CAP_DEVICE, DEVICE_OFFSET, Math.max(device.configSize(), 4), 16);
        int notify = addVendorCap(CAP_NOTIFY, NOTIFY_OFFSET, NOTIFY_MULTIPLIER * queues.length, 20);
        config.put32(notify + 16, NOTIFY_MULTIPLIER);
        addBar(new PciBar(0, PciBar.Kind.IO, legacyBarSize(device.configSize()), false, new LegacyRegisters(this)));
        if (msix) {
            addBar(new PciBar(MSIX_BAR, PciBar.Kind.MEMORY32, interrupts.msix().barSize(), false,
                    interrupts.msix().handler()));
        }
        addBar(new PciBar(MODERN_BAR, PciBar.Kind.MEMORY32, MODERN_BAR_SIZE, false, new ModernRegisters(this)));
    }

    private static long legacyBarSize(int configSize) {
        long need = L_CONFIG_MSIX + configSize;
        return Long.highestOneBit(need - 1) << 1;
    }

    /** struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, pad[2], le32 offset, le32 length. */
    private int addVendorCap(int type, int offset, int length, int capLength) {
        int at = config.addCapability(0x09, capLength);
        config.put8(at + 2, capLength);
        config.put8(at + 3, type);
        config.put8(at + 4, MODERN_BAR);
        config.put32(at + 8, offset);
        config.put32(at + 12, length);
        return at;
    }

    public VirtioDevice device() {
        return device;
    }

    /** The queues (tests and saved state). */
    public Virtqueue queue(int i) {
        return queues[i];
    }

    public synchronized int status() {
        return status;
    }

    @Override
    protected void configWritten(int offset, int size, long value) {
        interrupts.configWritten(offset, size);
    }

    @Override
    protected synchronized void barMoved(PciBar bar, long address) {
        boolean legacy = bar.index() == 0;
        if (!legacy && bar.index() != MODERN_BAR) {
            return;
        }
        List<GuestDoorbells.Registration> bells = legacy ? legacyBells : modernBells;
        bells.forEach(GuestDoorbells.Registration::close);
        bells.clear();
        if (address == -1) {
            return;
        }
        for (int q = 0; q < queues.length; q++) {
            int queue = q;
            long at = legacy ? address + L_QUEUE_NOTIFY : address + NOTIFY_OFFSET + (long) NOTIFY_MULTIPLIER * q;
            try {
                bells.add(doorbells.register(at, 2, legacy, q, () -> notifyQueue(queue)));
            } catch (RuntimeException e) {
                // No ioeventfd there (e.g. overlapping registration): the bus handler still serves it.
            }
        }
    }

    /**
     * The driver kicked queue {@code q}; ignored until DRIVER_OK, for queues not set up, and
     * while quiesced for a snapshot (every queue is looked at again when the device resumes).
     */
    public void notifyQueue(int q) {
        if (!active || q < 0 || q >= queues.length || !queues[q].isReady()) {
            return;
        }
        notifying.incrementAndGet();
        try {
            if (!quiesced) {
                device.queueNotified(q);
            }
        } finally {
            notifying.decrementAndGet();
        }
    }

    /** Calls the device for every live queue, as after a kick on each. */
    private void notifyAllQueues() {
        for (int q = 0; q < queues.length; q++) {
            notifyQueue(q);
        }
    }

    // ---- shared register semantics ----

    synchronized long hostFeatures(int select) {
        return select == 0 ? offered & 0xFFFFFFFFL : select == 1 ? offered >>> 32 : 0;
    }

    synchronized void setDriverFeatures(int select, long value) {
        if ((status & STATUS_FEATURES_OK) != 0) {
            return; // frozen after FEATURES_OK
        }
        if (select == 0) {
            driverFeatures = (driverFeatures & ~0xFFFFFFFFL) | (value & 0xFFFFFFFFL);
        } else if (select == 1) {
            driverFeatures = (driverFeatures & 0xFFFFFFFFL) | (value & 0xFFFFFFFFL) << 32;
        }
    }

    synchronized long negotiated() {
        return driverFeatures & offered;
    }

    synchronized void writeStatus(int value, boolean modern) {
        value &= 0xFF;
        if (value == 0) {
            reset();
            return;
        }
        if ((value & STATUS_FEATURES_OK) != 0 && (status & STATUS_FEATURES_OK) == 0) {
            boolean ok = (driverFeatures & ~offered) == 0 && (!modern || (driverFeatures & 1L << F_VERSION_1) != 0);
            if (!ok) {
                value &= ~STATUS_FEATURES_OK;
            }
        }
        int old = status;
        status = value | (status & STATUS_NEEDS_RESET);
        if ((value & STATUS_DRIVER_OK) != 0 && (old & STATUS_DRIVER_OK) == 0 && !active) {
            activate();
        }
    }

    private void activate() {
        for (Virtqueue q : queues) {
            q.setIndirectAllowed((negotiated() & 1L << F_INDIRECT_DESC) != 0);
        }
        active = true;
        device.activate(transport);
        notifyAllQueues(); // buffers made available before DRIVER_OK
    }

    synchronized void reset() {
        active = false;
        device.reset();
        for (Virtqueue q : queues) {
            q.reset();
        }
        status = 0;
        driverFeatures = 0;
        deviceFeatureSelect = driverFeatureSelect = queueSelect = 0;
        configVector = NO_VECTOR;
        interrupts.reset();
    }

    /** Makes queue {@code q} live; a bad layout sets NEEDS_RESET. */
    synchronized void enableQueue(Virtqueue q) {
        try {
            q.enable((negotiated() & 1L << F_EVENT_IDX) != 0);
        } catch (VirtqueueException e) {
            needsReset(q, e);
        }
    }

    private void needsReset(Virtqueue q, VirtqueueException e) {
        System.err.println("jbhyve: " + name() + ": " + e.getMessage() + "; device needs reset");
        synchronized (this) {
            status |= STATUS_NEEDS_RESET;
            configGeneration++;
        }
        if ((status() & STATUS_DRIVER_OK) != 0) {
            interrupts.config(configVector());
        }
    }

    synchronized Virtqueue selectedQueue() {
        return queueSelect < queues.length ? queues[queueSelect] : null;
    }

    synchronized int configVector() {
        return configVector;
    }

    synchronized void setConfigVector(int v) {
        configVector = v < interrupts.vectorCount() ? v : NO_VECTOR;
    }

    synchronized int readIsr() {
        return interrupts.readIsr();
    }

    int queueCount() {
        return queues.length;
    }

    synchronized int deviceFeatureSelect() {
        return deviceFeatureSelect;
    }

    synchronized void setDeviceFeatureSelect(int v) {
        deviceFeatureSelect = v;
    }

    synchronized int driverFeatureSelect() {
        return driverFeatureSelect;
    }

    synchronized void setDriverFeatureSelect(int v) {
        driverFeatureSelect = v;
    }

    synchronized int queueSelect() {
        return queueSelect;
    }

    synchronized void setQueueSelect(int v) {
        queueSelect = v & 0xFFFF;
    }

    synchronized int configGeneration() {
        return configGeneration;
    }

    boolean msixEnabled() {
        return interrupts.msixEnabled();
    }

    int msixVectorCount() {
        return interrupts.vectorCount();
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * The function's snapshot, layout version 1:
     * <pre>
     * function state   config space and BAR addresses ({@link PciFunction}), MSI/MSI-X control
     *                  words and the INTx status bit included
     * u8  device status            i64 driver features as written (negotiated = these & offered)
     * i32 device feature select    i32 driver feature select    u16 queue select
     * u16 config MSI-X vector      i32 config generation
     * i32 queue count, then each queue ({@link Virtqueue#saveState}): layout, ready, ring
     *     positions (last available index seen, next used index), event-idx, vector
     * interrupts       u8 ISR, then with MSI-X the capability's table and PBA, nested
     * device           the model's state, nested (its own layout version)
     * </pre>
     * A device model that is not {@link Snapshottable} makes this a {@link SnapshotException}.
     */
    @Override
    public void saveState(StateWriter out) {
        Snapshottable model = snapshottableDevice();
        synchronized (this) {
            saveFunctionState(out);
            out.u8(status).i64(driverFeatures).i32(deviceFeatureSelect).i32(driverFeatureSelect).u16(queueSelect);
            out.u16(configVector).i32(configGeneration);
            out.i32(queues.length);
            for (Virtqueue q : queues) {
                q.saveState(out);
            }
            interrupts.saveState(out);
        }
        out.nested(model); // outside the lock: the model's threads may call the transport
    }

    /**
     * Restores a blob of {@link #saveState} into this freshly built function: config space and
     * BAR placement (with the doorbells re-registered where the BARs land), the registers, the
     * queues at their saved ring positions, interrupt routes and the INTx line, the device
     * model; then, if the driver had set DRIVER_OK, activates the device on the restored queues
     * as the status write would have (the guest does not repeat the handshake) and looks at
     * every queue once. Features the driver negotiated that this device no longer offers (its
     * backend differs) are a {@link SnapshotException}.
     */
    @Override
    public void restoreState(StateReader in, int version) {
        Snapshottable model = snapshottableDevice();
        synchronized (this) {
            if (active || status != 0) {
                reset();
            }
            restoreFunctionState(in);
            int savedStatus = in.u8();
            long savedDriverFeatures = in.i64();
            int savedDfSelect = in.i32();
            int savedGfSelect = in.i32();
            int savedQueueSelect = in.u16();
            int savedConfigVector = in.u16();
            int savedGeneration = in.i32();
            if ((savedStatus & STATUS_FEATURES_OK) != 0 && (savedDriverFeatures & ~offered) != 0) {
                throw new SnapshotException(String.format("%s: the driver negotiated features 0x%x, this device "
                        + "offers 0x%x", name(), savedDriverFeatures, offered));
            }
            if (savedConfigVector >= interrupts.vectorCount() && savedConfigVector != NO_VECTOR) {
                throw in.invalid("config vector " + savedConfigVector + " of " + interrupts.vectorCount());
            }
            int count = in.i32();
            if (count != queues.length) {
                throw in.invalid(count + " queues saved, the device has " + queues.length);
            }
            for (Virtqueue q : queues) {
                q.restoreState(in, interrupts.vectorCount());
            }
            interrupts.restoreState(in);
            status = savedStatus;
            driverFeatures = savedDriverFeatures;
            deviceFeatureSelect = savedDfSelect;
            driverFeatureSelect = savedGfSelect;
            queueSelect = savedQueueSelect;
            configVector = savedConfigVector;
            configGeneration = savedGeneration;
        }
        in.nested(model, "device");
        synchronized (this) {
            if ((status & STATUS_DRIVER_OK) != 0) {
                activate();
            }
        }
    }

    /**
     * Lets the device take what the driver made available before the vCPUs stopped, then
     * ignores doorbells, waits for the device calls in progress, and quiesces the device
     * (its in-flight requests completed, used entries published, interrupts sent).
     */
    @Override
    public void quiesce() {
        Snapshottable model = snapshottableDevice();
        notifyAllQueues();
        quiesced = true;
        while (notifying.get() != 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        model.quiesce();
    }

    /** Lets the device work again and looks at every queue once (kicks ignored meanwhile). */
    @Override
    public void resumeAfterSnapshot() {
        if (device instanceof Snapshottable model) {
            model.resumeAfterSnapshot();
        }
        quiesced = false;
        notifyAllQueues();
    }

    private Snapshottable snapshottableDevice() {
        if (device instanceof Snapshottable model) {
            return model;
        }
        throw new SnapshotException(name() + ": cannot be snapshotted");
    }

    @Override
    public void close() {
        synchronized (this) {
            active = false;
            legacyBells.forEach(GuestDoorbells.Registration::close);
            modernBells.forEach(GuestDoorbells.Registration::close);
            legacyBells.clear();
            modernBells.clear();
        }
        try {
            device.close();
        } catch (Exception e) {
            // best effort at shutdown
        }
        interrupts.close();
    }

    private final class Transport implements VirtioTransport {
        @Override
        public Virtqueue queue(int index) {
            return queues[index];
        }

        @Override
        public long negotiatedFeatures() {
            return negotiated();
        }

        @Override
        public void notifyUsed(Virtqueue queue) {
            if (queue.needsInterrupt()) {
                interrupts.queue(queue.vector());
            }
        }

        @Override
        public void notifyConfigChanged() {
            synchronized (VirtioPciFunction.this) {
                configGeneration++;
            }
            interrupts.config(configVector());
        }

        @Override
        public void queueBroken(Virtqueue queue, VirtqueueException error) {
            needsReset(queue, error);
        }
    }

    /** Convenience for devices' request handlers: the bus view of the legacy block. */
    IoHandler legacyHandler() {
        return bars().getFirst().handler();
    }
}
