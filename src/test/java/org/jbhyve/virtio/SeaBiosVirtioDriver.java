package org.jbhyve.virtio;

import static org.jbhyve.virtio.VirtioPci.*;

import java.lang.invoke.VarHandle;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciBar;

/**
 * The virtio driver of SeaBIOS (src/hw/virtio-pci.c, virtio-ring.c) step by step: reset,
 * ACKNOWLEDGE|DRIVER, with the modern interface features VERSION_1 only and FEATURES_OK, one
 * queue set up ({@code vp_find_vq}: a vring in one 4 KiB-aligned block, descriptors, then the
 * avail ring with NO_INTERRUPT set, the used ring at the next page), DRIVER_OK; then each request
 * is a chain taken from the descriptor free list, one kick, and polling of the used index (no
 * interrupts), the ISR read after each. With {@code modern=false} it is SeaBIOS's legacy path
 * (queue PFN, I/O BAR notify), which older SeaBIOS releases always take.
 */
public final class SeaBiosVirtioDriver {
    private final VirtioPciFunction f;
    private final GuestMemory mem;
    private final boolean modern;
    private final IoHandler bar;
    private final int queue;
    private int num;
    private long desc;
    private long avail;
    private long used;
    private int freeHead;
    private int lastUsed;
    private int notifyOff;

    /** Brings the device up SeaBIOS's way with queue {@code queue} only; throws if the device refuses. */
    public SeaBiosVirtioDriver(VirtioPciFunction f, MockGuest guest, boolean modern, int queue) {
        this.f = f;
        this.mem = guest.memory;
        this.modern = modern;
        this.queue = queue;
        int index = modern ? MODERN_BAR : 0;
        this.bar = f.bars().stream().filter(b -> b.index() == index).map(PciBar::handler).findFirst().orElseThrow();
        int status = STATUS_ACKNOWLEDGE | STATUS_DRIVER;
        writeStatus(0);
        writeStatus(status);
        if (modern) {
            bar.write(COMMON_OFFSET + C_DFSELECT, 4, 1);
            long high = bar.read(COMMON_OFFSET + C_DF, 4);
            if ((high & 1) == 0) {
                throw new IllegalStateException("modern device without VERSION_1");
            }
            bar.write(COMMON_OFFSET + C_GFSELECT, 4, 0);
            bar.write(COMMON_OFFSET + C_GF, 4, 0);
            bar.write(COMMON_OFFSET + C_GFSELECT, 4, 1);
            bar.write(COMMON_OFFSET + C_GF, 4, high & 3); // VERSION_1 | ACCESS_PLATFORM if offered
            status |= STATUS_FEATURES_OK;
            writeStatus(status);
            if ((bar.read(COMMON_OFFSET + C_STATUS, 1) & STATUS_FEATURES_OK) == 0) {
                throw new IllegalStateException("device didn't accept features");
            }
        }
        findQueue(guest);
        writeStatus(status | STATUS_DRIVER_OK);
    }

    private void writeStatus(int s) {
        bar.write(modern ? COMMON_OFFSET + C_STATUS : L_STATUS, 1, s);
    }

    private void findQueue(MockGuest guest) {
        if (modern) {
            bar.write(COMMON_OFFSET + C_Q_SELECT, 2, queue);
            num = (int) bar.read(COMMON_OFFSET + C_Q_SIZE, 2);
            if (num > 256) {
                bar.write(COMMON_OFFSET + C_Q_SIZE, 2, 256);
                num = (int) bar.read(COMMON_OFFSET + C_Q_SIZE, 2);
            }
            if (bar.read(COMMON_OFFSET + C_Q_ENABLE, 2) != 0) {
                throw new IllegalStateException("queue already active");
            }
        } else {
            bar.write(L_QUEUE_SELECT, 2, queue);
            num = (int) bar.read(L_QUEUE_SIZE, 2);
            if (bar.read(L_QUEUE_PFN, 4) != 0) {
                throw new IllegalStateException("queue already active");
            }
        }
        if (num == 0 || num > 256) {
            throw new IllegalStateException("queue size " + num);
        }
        desc = guest.alloc(3 * 4096 + 16L * num + 2L * (3 + num) + 8L * num, 4096);
        avail = desc + 16L * num;
        used = (avail + 2L * (2 + num) + 4095) & -4096L;
        mem.putShort(avail, (short) 1); // VRING_AVAIL_F_NO_INTERRUPT
        for (int i = 0; i < num; i++) {
            mem.putShort(desc + 16L * i + 14, (short) (i == num - 1 ? 0 : i + 1));
        }
        if (modern) {
            bar.write(COMMON_OFFSET + C_Q_DESC, 4, desc);
            bar.write(COMMON_OFFSET + C_Q_DESC + 4, 4, 0);
            bar.write(COMMON_OFFSET + C_Q_AVAIL, 4, avail);
            bar.write(COMMON_OFFSET + C_Q_AVAIL + 4, 4, 0);
            bar.write(COMMON_OFFSET + C_Q_USED, 4, used);
            bar.write(COMMON_OFFSET + C_Q_USED + 4, 4, 0);
            bar.write(COMMON_OFFSET + C_Q_ENABLE, 2, 1);
            notifyOff = (int) bar.read(COMMON_OFFSET + C_Q_NOTIFY_OFF, 2);
        } else {
            bar.write(L_QUEUE_PFN, 4, desc >> 12);
        }
    }

    /** Device config as SeaBIOS reads it (modern device-config window or legacy I/O after the registers). */
    public long config(int offset, int size) {
        return bar.read((modern ? DEVICE_OFFSET : L_CONFIG) + offset, size);
    }

    /**
     * {@code vring_add_buf} + {@code vring_kick} + polling + {@code vring_get_buf} + ISR read:
     * {@code out} device-readable buffers then {@code in} writable ones; returns the used length.
     */
    public int request(long[] addresses, int[] lengths, int out, int in) throws InterruptedException {
        int head = freeHead;
        int i = head;
        int prev = 0;
        for (int k = 0; k < out + in; k++) {
            long d = desc + 16L * i;
            mem.putShort(d + 12, (short) (Virtqueue.F_NEXT | (k >= out ? Virtqueue.F_WRITE : 0)));
            mem.putLong(d, addresses[k]);
            mem.putInt(d + 8, lengths[k]);
            prev = i;
            i = Short.toUnsignedInt(mem.getShort(d + 14));
        }
        long p = desc + 16L * prev + 12;
        mem.putShort(p, (short) (mem.getShort(p) & ~Virtqueue.F_NEXT));
        freeHead = i;
        int idx = Short.toUnsignedInt(mem.getShort(avail + 2));
        mem.putShort(avail + 4 + 2L * (idx % num), (short) head);
        VarHandle.releaseFence();
        mem.putShort(avail + 2, (short) (idx + 1));
        VarHandle.fullFence();
        if (modern) {
            bar.write(NOTIFY_OFFSET + (long) notifyOff * NOTIFY_MULTIPLIER, 2, queue);
        } else {
            bar.write(L_QUEUE_NOTIFY, 2, queue);
        }
        long end = System.nanoTime() + 5_000_000_000L;
        while (Short.toUnsignedInt(mem.getShort(used + 2)) == lastUsed) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no used entry within 5 s");
            }
            Thread.sleep(0, 100_000);
        }
        VarHandle.acquireFence();
        long e = used + 4 + 8L * (lastUsed % num);
        int id = mem.getInt(e);
        int len = mem.getInt(e + 4);
        int j = id; // vring_detach: the chain goes back to the head of the free list
        while ((mem.getShort(desc + 16L * j + 12) & Virtqueue.F_NEXT) != 0) {
            j = Short.toUnsignedInt(mem.getShort(desc + 16L * j + 14));
        }
        mem.putShort(desc + 16L * j + 14, (short) freeHead);
        freeHead = id;
        lastUsed = (lastUsed + 1) & 0xFFFF;
        bar.read(modern ? ISR_OFFSET : L_ISR, 1);
        return len;
    }

    public int status() {
        return (int) bar.read(modern ? COMMON_OFFSET + C_STATUS : L_STATUS, 1);
    }
}
