package org.jbhyve.backend.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.jbhyve.backend.net.NetBackend;

/**
 * An in-memory backend that behaves like the tap one towards the device: a bounded receive
 * queue (256 frames, the excess dropped and counted), the header size and offloads recorded,
 * received frames handed out with a header of the configured size whose bytes 10-11 (where the
 * kernel writes nothing) hold garbage. Shared by the NIC models' tests.
 */
public final class FakeNetBackend implements NetBackend {
    public static final int QUEUE_FRAMES = 256;
    /** No frame a device hands over may be this long; one that is fails the test at once. */
    private static final int ABSURD_FRAME = 1 << 20;
    final List<byte[]> sent = new ArrayList<>();
    /** How many sent frames {@link #sent()} keeps, the newest (fuzzers send millions). */
    private final int keepSent;
    private long sentCount;
    private final ArrayDeque<byte[]> incoming = new ArrayDeque<>();
    private volatile Runnable listener;
    private volatile int header;
    private long dropped;
    public volatile boolean[] offloads = new boolean[5];
    public volatile int offloadCalls;
    public volatile boolean closed;
    public volatile boolean refuseSends;

    /** A backend that keeps every frame sent. */
    public FakeNetBackend() {
        this(Integer.MAX_VALUE);
    }

    /** A backend that keeps only the newest {@code keepSent} frames sent (all are counted). */
    public FakeNetBackend(int keepSent) {
        this.keepSent = keepSent;
    }

    /** Queues {@code frame} (behind a zero header of the configured size) and signals the listener. */
    public void inject(byte[] frame) {
        inject(frame, null);
    }

    /** Pretends the backend dropped {@code count} frames (a NIC's missed-packet counter reads it). */
    public synchronized void setDropped(long count) {
        dropped = count;
    }

    /** Queues {@code frame} behind a header whose first 10 bytes are {@code hdr10} (zeros if null). */
    public void inject(byte[] frame, byte[] hdr10) {
        synchronized (this) {
            int h = header;
            byte[] f = new byte[h + frame.length];
            if (hdr10 != null) {
                System.arraycopy(hdr10, 0, f, 0, Math.min(10, h));
            }
            if (h == 12) {
                f[10] = (byte) 0xEE;
                f[11] = (byte) 0xEE;
            }
            System.arraycopy(frame, 0, f, h, frame.length);
            if (incoming.size() >= QUEUE_FRAMES) {
                dropped++;
                return;
            }
            incoming.add(f);
        }
        Runnable l = listener;
        if (l != null) {
            l.run();
        }
    }

    public synchronized int queued() {
        return incoming.size();
    }

    /** Drops every frame still waiting to be received. */
    public synchronized void clearIncoming() {
        incoming.clear();
    }

    /** Frames sent since the backend was made, kept or not. */
    public synchronized long sentCount() {
        return sentCount;
    }

    /** The newest frame sent, or null. */
    public synchronized byte[] lastSent() {
        return sent.isEmpty() ? null : sent.getLast();
    }

    public synchronized List<byte[]> sent() {
        return new ArrayList<>(sent);
    }

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public synchronized boolean send(MemorySegment... parts) {
        if (refuseSends) {
            return false;
        }
        long total = 0;
        for (MemorySegment p : parts) {
            total += p.byteSize();
        }
        if (total > ABSURD_FRAME) {
            throw new AssertionError("a frame of " + total + " bytes");
        }
        byte[] f = new byte[(int) total];
        int at = 0;
        for (MemorySegment p : parts) {
            MemorySegment.copy(p, ValueLayout.JAVA_BYTE, 0, f, at, (int) p.byteSize());
            at += (int) p.byteSize();
        }
        if (sent.size() == keepSent) {
            sent.removeFirst();
        }
        sent.add(f);
        sentCount++;
        notifyAll();
        return true;
    }

    /** Waits until {@code n} frames were sent. */
    public synchronized boolean awaitSent(int n, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (sent.size() < n && System.currentTimeMillis() < end) {
            wait(Math.max(1, end - System.currentTimeMillis()));
        }
        return sent.size() >= n;
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
    public void setVnetHeader(int size) {
        header = size;
    }

    @Override
    public int vnetHeaderSize() {
        return header;
    }

    @Override
    public void setOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn, boolean ufo) {
        if ((tso4 || tso6 || ecn || ufo) && !csum) {
            throw new IllegalArgumentException("segmentation offloads need checksum offload");
        }
        offloads = new boolean[] {csum, tso4, tso6, ecn, ufo};
        offloadCalls++;
    }

    @Override
    public OptionalInt mtu() {
        return OptionalInt.empty();
    }

    @Override
    public synchronized long droppedFrames() {
        return dropped;
    }

    @Override
    public void close() {
        closed = true;
    }
}
