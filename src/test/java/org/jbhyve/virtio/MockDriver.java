package org.jbhyve.virtio;

import static org.jbhyve.virtio.VirtioPci.*;

import org.jbhyve.bus.IoHandler;
import org.jbhyve.pci.PciBar;

/**
 * A virtio 1.x (or legacy) driver bring-up over a {@link VirtioPciFunction}'s registers, as a
 * guest driver would do it: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, MSI-X,
 * DRIVER_OK. Used by device tests and the benchmark.
 */
public final class MockDriver {
    public static final long MSI_ADDRESS = 0xFEE00000L;
    public final VirtioPciFunction function;
    public final MockGuest guest;
    public final MockQueue[] queues;
    private final IoHandler modern;
    private final IoHandler legacy;

    public MockDriver(VirtioPciFunction function, MockGuest guest) {
        this.function = function;
        this.guest = guest;
        this.modern = bar(function, MODERN_BAR);
        this.legacy = bar(function, 0);
        this.queues = new MockQueue[function.queueCount()];
    }

    private static IoHandler bar(VirtioPciFunction f, int index) {
        return f.bars().stream().filter(b -> b.index() == index).map(PciBar::handler).findFirst().orElseThrow();
    }

    public IoHandler modern() {
        return modern;
    }

    public IoHandler legacy() {
        return legacy;
    }

    public long deviceFeatures() {
        modern.write(COMMON_OFFSET + C_DFSELECT, 4, 0);
        long lo = modern.read(COMMON_OFFSET + C_DF, 4);
        modern.write(COMMON_OFFSET + C_DFSELECT, 4, 1);
        return lo | modern.read(COMMON_OFFSET + C_DF, 4) << 32;
    }

    /** Enables MSI-X with vector i = queue i, config = last vector, data = 0x40 + i. */
    public void enableMsix() {
        int cap = function.config().get8(0x34);
        while (cap != 0 && function.config().get8(cap) != 0x11) {
            cap = function.config().get8(cap + 1);
        }
        if (cap == 0) {
            throw new IllegalStateException("no MSI-X capability");
        }
        IoHandler table = bar(function, MSIX_BAR);
        for (int v = 0; v <= queues.length; v++) {
            table.write(16L * v, 4, MSI_ADDRESS);
            table.write(16L * v + 4, 4, 0);
            table.write(16L * v + 8, 4, 0x40 + v);
            table.write(16L * v + 12, 4, 0);
        }
        function.configWrite(cap + 2, 2, 0x8000);
    }

    /** Full modern bring-up; {@code features} are ANDed with what the device offers. */
    public long startModern(long features, int queueSize, boolean msix) {
        modern.write(COMMON_OFFSET + C_STATUS, 1, 0);
        modern.write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE);
        modern.write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        long negotiated = deviceFeatures() & (features | 1L << F_VERSION_1);
        modern.write(COMMON_OFFSET + C_GFSELECT, 4, 0);
        modern.write(COMMON_OFFSET + C_GF, 4, negotiated & 0xFFFFFFFFL);
        modern.write(COMMON_OFFSET + C_GFSELECT, 4, 1);
        modern.write(COMMON_OFFSET + C_GF, 4, negotiated >>> 32);
        int s = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
        modern.write(COMMON_OFFSET + C_STATUS, 1, s);
        if ((modern.read(COMMON_OFFSET + C_STATUS, 1) & STATUS_FEATURES_OK) == 0) {
            throw new IllegalStateException("device refused features " + Long.toHexString(negotiated));
        }
        if (msix) {
            enableMsix();
            modern.write(COMMON_OFFSET + C_MSIX_CONFIG, 2, queues.length);
        }
        for (int q = 0; q < queues.length; q++) {
            modern.write(COMMON_OFFSET + C_Q_SELECT, 2, q);
            int size = Math.min(queueSize, (int) modern.read(COMMON_OFFSET + C_Q_SIZE, 2));
            modern.write(COMMON_OFFSET + C_Q_SIZE, 2, size);
            queues[q] = new MockQueue(guest, size);
            modern.write(COMMON_OFFSET + C_Q_DESC, 8, queues[q].desc);
            modern.write(COMMON_OFFSET + C_Q_AVAIL, 4, queues[q].avail);
            modern.write(COMMON_OFFSET + C_Q_AVAIL + 4, 4, 0);
            modern.write(COMMON_OFFSET + C_Q_USED, 8, queues[q].used);
            if (msix) {
                modern.write(COMMON_OFFSET + C_Q_MSIX, 2, q);
            }
            modern.write(COMMON_OFFSET + C_Q_ENABLE, 2, 1);
        }
        modern.write(COMMON_OFFSET + C_STATUS, 1, s | STATUS_DRIVER_OK);
        return negotiated;
    }

    /** Device config byte/word/dword through the modern BAR. */
    public long config(int offset, int size) {
        return modern.read(DEVICE_OFFSET + offset, size);
    }

    public int status() {
        return (int) modern.read(COMMON_OFFSET + C_STATUS, 1);
    }

    /**
     * The same driver over {@code restored}, a function restored from a snapshot of this one's:
     * the queues (driver-side ring state in guest RAM) carry on where they were.
     */
    public MockDriver continueOn(VirtioPciFunction restored) {
        MockDriver d = new MockDriver(restored, guest);
        System.arraycopy(queues, 0, d.queues, 0, queues.length);
        return d;
    }

    /** Kicks queue {@code q} through the modern notify area (what the ioeventfd would do). */
    public void kick(int q) {
        modern.write(NOTIFY_OFFSET + (long) NOTIFY_MULTIPLIER * q, 2, q);
    }
}
