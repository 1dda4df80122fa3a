package org.jbhyve.devices.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.jbhyve.backend.net.NetBackend;

/** An in-memory backend: records sent frames, queues injected ones and signals like the tap's reader. */
final class FakeNetBackend implements NetBackend {
    final List<byte[]> sent = new ArrayList<>();
    private final ArrayDeque<byte[]> incoming = new ArrayDeque<>();
    private Runnable listener;
    long dropped;
    boolean closed;

    /** Queues {@code frame} and calls the listener, as the tap's reader thread would. */
    void inject(byte[] frame) {
        synchronized (this) {
            incoming.add(frame.clone());
        }
        Runnable l = listener;
        if (l != null) {
            l.run();
        }
    }

    synchronized int queued() {
        return incoming.size();
    }

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public synchronized boolean send(MemorySegment... parts) {
        long total = 0;
        for (MemorySegment p : parts) {
            total += p.byteSize();
        }
        byte[] f = new byte[(int) total];
        int at = 0;
        for (MemorySegment p : parts) {
            MemorySegment.copy(p, ValueLayout.JAVA_BYTE, 0, f, at, (int) p.byteSize());
            at += (int) p.byteSize();
        }
        sent.add(f);
        return true;
    }

    @Override
    public synchronized int peekLength() {
        byte[] f = incoming.peek();
        return f == null ? -1 : f.length;
    }

    @Override
    public synchronized int receive(MemorySegment... buffers) {
        byte[] f = incoming.poll();
        if (f == null) {
            return -1;
        }
        int at = 0;
        for (MemorySegment b : buffers) {
            int now = (int) Math.min(b.byteSize(), f.length - at);
            if (now <= 0) {
                break;
            }
            MemorySegment.copy(f, at, b, ValueLayout.JAVA_BYTE, 0, now);
            at += now;
        }
        return f.length;
    }

    @Override
    public synchronized boolean discard() {
        return incoming.poll() != null;
    }

    @Override
    public void setReceiveListener(Runnable listener) {
        this.listener = listener;
    }

    @Override
    public void setVnetHeader(int size) {}

    @Override
    public int vnetHeaderSize() {
        return 0;
    }

    @Override
    public void setOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn, boolean ufo) {}

    @Override
    public OptionalInt mtu() {
        return OptionalInt.empty();
    }

    @Override
    public long droppedFrames() {
        return dropped;
    }

    @Override
    public void close() {
        closed = true;
    }
}
