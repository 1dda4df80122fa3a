package org.jbhyve.virtio;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test device: one queue; each chain's readable bytes are copied to its writable bytes. Not
 * {@link org.jbhyve.snapshot.Snapshottable}; {@link SnapshottableEcho} is.
 */
class EchoDevice implements VirtioDevice {
    VirtioTransport transport;
    final AtomicInteger served = new AtomicInteger();
    final AtomicInteger errors = new AtomicInteger();

    @Override
    public int deviceType() {
        return 42;
    }

    @Override
    public int legacyPciDeviceId() {
        return 0x10FF;
    }

    @Override
    public int pciClass() {
        return 0xFF0000;
    }

    @Override
    public long features() {
        return 0;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int queueMaxSize() {
        return 16;
    }

    @Override
    public int configSize() {
        return 8;
    }

    @Override
    public long readConfig(int offset, int size) {
        long v = 0x0807060504030201L;
        return offset >= 8 ? 0 : (v >>> (8 * offset)) & (size >= 8 ? -1L : (1L << (8 * size)) - 1);
    }

    @Override
    public void activate(VirtioTransport transport) {
        this.transport = transport;
    }

    @Override
    public void reset() {
        transport = null;
    }

    @Override
    public void queueNotified(int queue) {
        Virtqueue q = transport.queue(queue);
        try {
            for (int n = 0; n < 1024; n++) {
                DescriptorChain c = q.pop();
                if (c == null) {
                    break;
                }
                byte[] data = new byte[(int) Math.min(c.readableBytes(), 1 << 20)];
                int at = 0;
                for (int i = 0; i < c.readableCount() && at < data.length; i++) {
                    int len = (int) Math.min(c.length(i), data.length - at);
                    java.lang.foreign.MemorySegment.copy(c.segment(i), java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                            data, at, len);
                    at += len;
                }
                int written = 0;
                for (int i = c.readableCount(); i < c.count() && written < at; i++) {
                    int len = (int) Math.min(c.length(i), at - written);
                    java.lang.foreign.MemorySegment.copy(data, written, c.segment(i),
                            java.lang.foreign.ValueLayout.JAVA_BYTE, 0, len);
                    written += len;
                }
                q.addUsed(c.head(), written);
                served.incrementAndGet();
            }
        } catch (VirtqueueException e) {
            errors.incrementAndGet();
            transport.queueBroken(q, e);
        }
        transport.notifyUsed(q);
    }
}
