package org.jbhyve.virtio;

import static org.jbhyve.virtio.VirtioPci.*;

import org.jbhyve.bus.IoHandler;

/**
 * The legacy (virtio 0.9.5) register block on I/O BAR0; the map is in {@link VirtioPci}. Device
 * config starts at 0x18 while MSI-X is enabled and at 0x14 otherwise. Writing a queue PFN lays
 * the queue out at that page with the fixed legacy alignment; writing 0 disables it.
 */
final class LegacyRegisters implements IoHandler {
    private final VirtioPciFunction f;

    LegacyRegisters(VirtioPciFunction f) {
        this.f = f;
    }

    private int configBase() {
        return f.msixEnabled() ? L_CONFIG_MSIX : L_CONFIG;
    }

    @Override
    public long read(long offset, int size) {
        int o = (int) offset;
        if (o >= configBase()) {
            return f.device().readConfig(o - configBase(), size);
        }
        Virtqueue q = f.selectedQueue();
        long v = switch (o) {
            case L_HOST_FEATURES -> f.hostFeatures(0);
            case L_GUEST_FEATURES -> f.negotiated() & 0xFFFFFFFFL;
            case L_QUEUE_PFN -> q == null ? 0 : q.descAddr() / LEGACY_PAGE;
            case L_QUEUE_SIZE -> q == null ? 0 : q.maxSize();
            case L_QUEUE_SELECT -> f.queueSelect();
            case L_STATUS -> f.status();
            case L_ISR -> f.readIsr();
            case L_CONFIG_VECTOR -> f.configVector();
            case L_QUEUE_VECTOR -> q == null ? NO_VECTOR : q.vector();
            default -> 0;
        };
        return v & IoHandler.mask(size);
    }

    @Override
    public void write(long offset, int size, long value) {
        int o = (int) offset;
        if (o >= configBase()) {
            f.device().writeConfig(o - configBase(), size, value);
            return;
        }
        switch (o) {
            case L_GUEST_FEATURES -> f.setDriverFeatures(0, value);
            case L_QUEUE_PFN -> setPfn(value & 0xFFFFFFFFL);
            case L_QUEUE_SELECT -> f.setQueueSelect((int) value);
            case L_QUEUE_NOTIFY -> f.notifyQueue((int) (value & 0xFFFF));
            case L_STATUS -> f.writeStatus((int) value, false);
            case L_CONFIG_VECTOR -> f.setConfigVector((int) (value & 0xFFFF));
            case L_QUEUE_VECTOR -> {
                Virtqueue q = f.selectedQueue();
                if (q != null) {
                    int v = (int) (value & 0xFFFF);
                    q.setVector(v < f.msixVectorCount() ? v : NO_VECTOR);
                }
            }
            default -> { }
        }
    }

    private void setPfn(long pfn) {
        Virtqueue q = f.selectedQueue();
        if (q == null) {
            return;
        }
        if (pfn == 0) {
            q.disable();
            q.setAddresses(0, 0, 0);
            return;
        }
        int size = q.maxSize();
        long desc = pfn * LEGACY_PAGE;
        long avail = desc + 16L * size;
        long used = (avail + 6 + 2L * size + LEGACY_PAGE - 1) & -LEGACY_PAGE;
        q.setSize(size);
        q.setAddresses(desc, avail, used);
        f.enableQueue(q);
    }
}
