package org.jbhyve.virtio;

import static org.jbhyve.virtio.VirtioPci.*;

import org.jbhyve.bus.IoHandler;

/**
 * The virtio 1.x register areas in memory BAR4: common config (layout in {@link VirtioPci}),
 * ISR, device config and the notify area (queue n's doorbell at n * 4).
 */
final class ModernRegisters implements IoHandler {
    private final VirtioPciFunction f;

    ModernRegisters(VirtioPciFunction f) {
        this.f = f;
    }

    @Override
    public long read(long offset, int size) {
        int o = (int) offset;
        long mask = IoHandler.mask(size);
        if (o >= COMMON_OFFSET && o < COMMON_OFFSET + COMMON_LENGTH) {
            return commonRead(o - COMMON_OFFSET, size) & mask;
        }
        if (o == ISR_OFFSET) {
            return f.readIsr();
        }
        if (o >= DEVICE_OFFSET && o < DEVICE_OFFSET + DEVICE_LENGTH) {
            return f.device().readConfig(o - DEVICE_OFFSET, size) & mask;
        }
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        int o = (int) offset;
        if (o >= COMMON_OFFSET && o < COMMON_OFFSET + COMMON_LENGTH) {
            commonWrite(o - COMMON_OFFSET, size, value);
        } else if (o >= DEVICE_OFFSET && o < DEVICE_OFFSET + DEVICE_LENGTH) {
            f.device().writeConfig(o - DEVICE_OFFSET, size, value);
        } else if (o >= NOTIFY_OFFSET && o < NOTIFY_OFFSET + NOTIFY_MULTIPLIER * f.queueCount()) {
            f.notifyQueue((o - NOTIFY_OFFSET) / NOTIFY_MULTIPLIER);
        }
    }

    private long commonRead(int o, int size) {
        Virtqueue q = f.selectedQueue();
        return switch (o) {
            case C_DFSELECT -> f.deviceFeatureSelect();
            case C_DF -> f.hostFeatures(f.deviceFeatureSelect());
            case C_GFSELECT -> f.driverFeatureSelect();
            case C_GF -> f.driverFeatureSelect() == 0 ? f.negotiated() & 0xFFFFFFFFL
                    : f.driverFeatureSelect() == 1 ? f.negotiated() >>> 32 : 0;
            case C_MSIX_CONFIG -> f.configVector();
            case C_NUM_QUEUES -> f.queueCount();
            case C_STATUS -> f.status();
            case C_CONFIG_GENERATION -> f.configGeneration() & 0xFF;
            case C_Q_SELECT -> f.queueSelect();
            case C_Q_SIZE -> q == null ? 0 : q.size();
            case C_Q_MSIX -> q == null ? NO_VECTOR : q.vector();
            case C_Q_ENABLE -> q != null && q.isReady() ? 1 : 0;
            case C_Q_NOTIFY_OFF -> q == null ? 0 : q.index();
            case C_Q_DESC -> q == null ? 0 : q.descAddr();
            case C_Q_DESC + 4 -> q == null ? 0 : q.descAddr() >>> 32;
            case C_Q_AVAIL -> q == null ? 0 : q.availAddr();
            case C_Q_AVAIL + 4 -> q == null ? 0 : q.availAddr() >>> 32;
            case C_Q_USED -> q == null ? 0 : q.usedAddr();
            case C_Q_USED + 4 -> q == null ? 0 : q.usedAddr() >>> 32;
            default -> 0;
        };
    }

    private void commonWrite(int o, int size, long value) {
        Virtqueue q = f.selectedQueue();
        switch (o) {
            case C_DFSELECT -> f.setDeviceFeatureSelect((int) value);
            case C_GFSELECT -> f.setDriverFeatureSelect((int) value);
            case C_GF -> f.setDriverFeatures(f.driverFeatureSelect(), value & 0xFFFFFFFFL);
            case C_MSIX_CONFIG -> f.setConfigVector((int) (value & 0xFFFF));
            case C_STATUS -> f.writeStatus((int) value, true);
            case C_Q_SELECT -> f.setQueueSelect((int) value);
            case C_Q_SIZE -> {
                if (q != null && !q.isReady()) {
                    q.setSize((int) (value & 0xFFFF));
                }
            }
            case C_Q_MSIX -> {
                if (q != null) {
                    int v = (int) (value & 0xFFFF);
                    q.setVector(v < f.msixVectorCount() ? v : NO_VECTOR);
                }
            }
            case C_Q_ENABLE -> {
                if (q != null && (value & 1) != 0 && !q.isReady()) {
                    f.enableQueue(q);
                }
            }
            case C_Q_DESC, C_Q_DESC + 4, C_Q_AVAIL, C_Q_AVAIL + 4, C_Q_USED, C_Q_USED + 4 -> {
                if (q != null && !q.isReady()) {
                    setAddressPart(q, o, size, value);
                }
            }
            default -> { }
        }
    }

    private static void setAddressPart(Virtqueue q, int o, int size, long value) {
        int field = (o - C_Q_DESC) / 8;
        boolean high = ((o - C_Q_DESC) & 4) != 0;
        long old = field == 0 ? q.descAddr() : field == 1 ? q.availAddr() : q.usedAddr();
        long v;
        if (size == 8 && !high) {
            v = value;
        } else if (high) {
            v = (old & 0xFFFFFFFFL) | (value & 0xFFFFFFFFL) << 32;
        } else {
            v = (old & 0xFFFFFFFF00000000L) | (value & 0xFFFFFFFFL);
        }
        q.setAddresses(field == 0 ? v : q.descAddr(), field == 1 ? v : q.availAddr(), field == 2 ? v : q.usedAddr());
    }
}
