package org.jbhyve.devices.virtio.rng;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioDevice;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * virtio-rnd (P5): one request queue of device-writable buffers, filled with random bytes.
 * A token bucket (default 1 MiB/s, burst 64 KiB) limits the rate, so a guest that asks
 * continuously costs a bounded amount of host CPU: when the bucket is empty the queue is left
 * alone and a timer retries once tokens have accumulated.
 *
 * <p>Snapshots: the driver can change nothing here, so the blob is empty (the token bucket is
 * host policy and starts full). {@link #quiesce} waits for the request batch in progress and
 * cancels the retry timer; the transport looks at the queue again on resume and on restore.
 */
public final class VirtioRng implements VirtioDevice, Snapshottable {
    public static final long DEFAULT_RATE = 1 << 20;
    private static final int MAX_PER_REQUEST = 64 * 1024;

    private final EntropySource source;
    private final long bytesPerSecond;
    private final long burst;
    private final ScheduledExecutorService timer;
    private volatile VirtioTransport transport;
    private long tokens;
    private long lastRefill = System.nanoTime();
    private ScheduledFuture<?> retry;
    private boolean paused;

    public VirtioRng(EntropySource source, long bytesPerSecond) {
        this.source = source;
        this.bytesPerSecond = bytesPerSecond;
        this.burst = Math.max(MAX_PER_REQUEST, bytesPerSecond / 16);
        this.tokens = burst;
        this.timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
                Thread.ofPlatform().name("virtio-rnd-timer").daemon(true).unstarted(r));
    }

    @Override
    public int deviceType() {
        return 4;
    }

    @Override
    public int legacyPciDeviceId() {
        return 0x1005;
    }

    @Override
    public int pciClass() {
        return 0x100000; // bhyve: PCIC_CRYPTO
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
        return 64;
    }

    @Override
    public int configSize() {
        return 0;
    }

    @Override
    public long readConfig(int offset, int size) {
        return 0;
    }

    @Override
    public void activate(VirtioTransport transport) {
        this.transport = transport;
    }

    @Override
    public synchronized void reset() {
        transport = null;
    }

    @Override
    public synchronized void queueNotified(int queue) {
        VirtioTransport t = transport;
        if (t == null || paused) {
            return;
        }
        Virtqueue q = t.queue(0);
        refill();
        try {
            for (int budget = q.size(); budget > 0 && tokens > 0; budget--) {
                DescriptorChain c = q.pop();
                if (c == null) {
                    break;
                }
                long written = 0;
                for (int i = c.readableCount(); i < c.count() && tokens > 0 && written < MAX_PER_REQUEST; i++) {
                    long n = Math.min(Math.min(c.length(i), tokens), MAX_PER_REQUEST - written);
                    source.fill(c.segment(i).asSlice(0, n));
                    tokens -= n;
                    written += n;
                }
                q.addUsed(c.head(), (int) written);
            }
        } catch (VirtqueueException e) {
            t.queueBroken(q, e);
        }
        t.notifyUsed(q);
        if (tokens <= 0 && (retry == null || retry.isDone())) {
            long waitNanos = Math.max(1_000_000, -tokens * 1_000_000_000L / bytesPerSecond + 1_000_000);
            retry = timer.schedule(() -> retry(queue), waitNanos, TimeUnit.NANOSECONDS);
        }
    }

    private synchronized void retry(int queue) {
        retry = null;
        queueNotified(queue);
    }

    private void refill() {
        long now = System.nanoTime();
        long add = (now - lastRefill) * bytesPerSecond / 1_000_000_000L;
        if (add > 0) {
            tokens = Math.min(burst, tokens + add);
            lastRefill = now;
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /** Layout version 1: empty. */
    @Override
    public void saveState(StateWriter out) {}

    @Override
    public void restoreState(StateReader in, int version) {}

    @Override
    public synchronized void quiesce() {
        paused = true;
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
    }

    @Override
    public synchronized void resumeAfterSnapshot() {
        paused = false;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            source.close();
        } catch (Exception e) {
            // nothing left to do at shutdown
        }
    }
}
