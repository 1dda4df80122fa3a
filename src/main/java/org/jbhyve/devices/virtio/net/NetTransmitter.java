package org.jbhyve.devices.virtio.net;

import java.lang.foreign.MemorySegment;
import org.jbhyve.backend.net.NetBackend;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * The transmit queue: each chain is a virtio-net header followed by one Ethernet frame, all
 * device-readable (virtio 1.x 5.1.6.2). The header goes to the tap with the frame (same size
 * on both sides), gathered straight from guest RAM without a copy. Frames are queued with the
 * backend and flushed before their chains are published as used (a tap sends each batch with
 * one system call).
 *
 * <p>Dropped and counted, the chain returned to the guest: a chain with device-writable
 * buffers, shorter than the header plus an Ethernet header, longer than the header plus
 * {@link NetBackend#MAX_FRAME}, a header asking for an offload the driver did not negotiate
 * (NEEDS_CSUM without CSUM, a GSO type without the matching HOST_TSO), or a frame the backend
 * refused.
 */
final class NetTransmitter {
    static final int HDR_F_NEEDS_CSUM = 1;
    static final int GSO_NONE = 0, GSO_TCPV4 = 1, GSO_UDP = 3, GSO_TCPV6 = 4, GSO_ECN = 0x80;
    private static final int ETHER_HEADER = 14;
    private static final int CACHED_PARTS = 8;
    /** Used entries published (and an interrupt offered) at once, like vhost-net's batches. */
    static final int PUBLISH_EVERY = 64;
    private static final int[] NO_BYTES = new int[PUBLISH_EVERY];

    private final int[] usedHeads = new int[PUBLISH_EVERY];

    private final NetBackend backend;
    /** Arrays handed to send, one per part count, reused (the backend does not keep them). */
    private final MemorySegment[][] parts = new MemorySegment[CACHED_PARTS + 1][];
    private VirtioTransport transport;
    private int header;
    private boolean csum, tso4, tso6, ecn;
    private boolean paused;
    private long frames;
    private long dropped;

    NetTransmitter(NetBackend backend) {
        this.backend = backend;
        for (int i = 0; i <= CACHED_PARTS; i++) {
            parts[i] = new MemorySegment[i];
        }
    }

    synchronized void activate(VirtioTransport transport, int header, boolean csum, boolean tso4, boolean tso6,
                               boolean ecn) {
        this.transport = transport;
        this.header = header;
        this.csum = csum;
        this.tso4 = tso4;
        this.tso6 = tso6;
        this.ecn = ecn;
    }

    /** Waits for a batch in progress, then stops until the next activation. */
    synchronized void reset() {
        transport = null;
    }

    /** Waits for a batch in progress (its chains are used and interrupted for), then sends nothing until {@link #resume}. */
    synchronized void pause() {
        paused = true;
    }

    synchronized void resume() {
        paused = false;
    }

    /**
     * Sends at most one ring's worth of chains, publishes them and interrupts once. Returns true
     * when it stopped at that limit with chains maybe left (the worker calls again).
     */
    synchronized boolean drain() {
        VirtioTransport t = transport;
        if (t == null || paused) {
            return false;
        }
        Virtqueue q = t.queue(VirtioNet.TX);
        int budget = q.size();
        int done = 0;
        int pending = 0;
        try {
            while (done < budget) {
                DescriptorChain c = q.pop();
                if (c == null) {
                    break;
                }
                if (transmit(c)) {
                    frames++;
                } else {
                    dropped++;
                }
                usedHeads[pending++] = c.head();
                done++;
                if (pending == PUBLISH_EVERY) {
                    // Publish and offer an interrupt mid-batch: the driver reclaims and refills
                    // while this batch goes on, instead of waiting for the whole ring. The
                    // backend has sent these frames first: the guest may reuse their buffers.
                    flushSends();
                    q.addUsed(usedHeads, NO_BYTES, pending);
                    pending = 0;
                    t.notifyUsed(q);
                }
            }
        } catch (VirtqueueException e) {
            t.queueBroken(q, e);
            done = Math.min(done, budget - 1); // do not loop on a broken queue
        } finally {
            flushSends();
        }
        if (pending > 0) {
            q.addUsed(usedHeads, NO_BYTES, pending);
        }
        if (done > 0) {
            t.notifyUsed(q);
        }
        return done == budget;
    }

    /** Has the backend send what it queued; frames it dropped then move from sent to dropped. */
    private void flushSends() {
        int failed = backend.flush();
        frames -= failed;
        dropped += failed;
    }

    private boolean transmit(DescriptorChain c) {
        long bytes = c.readableBytes();
        if (c.writableBytes() != 0 || bytes < header + ETHER_HEADER || bytes > header + (long) NetBackend.MAX_FRAME) {
            return false;
        }
        int n = c.readableCount();
        MemorySegment[] p = n <= CACHED_PARTS ? parts[n] : new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            p[i] = c.segment(i);
        }
        boolean ok = offloadsAllowed(Scatter.get(p, n, 0), Scatter.get(p, n, 1)) && backend.queue(p);
        if (n <= CACHED_PARTS) {
            java.util.Arrays.fill(p, null); // drop references to guest memory slices
        }
        return ok;
    }

    /** The header's flags and gso_type use only what the driver negotiated. */
    private boolean offloadsAllowed(int flags, int gso) {
        if ((flags & HDR_F_NEEDS_CSUM) != 0 && !csum) {
            return false;
        }
        if ((gso & GSO_ECN) != 0 && !ecn) {
            return false;
        }
        return switch (gso & ~GSO_ECN) {
            case GSO_NONE -> (gso & GSO_ECN) == 0;
            case GSO_TCPV4 -> tso4;
            case GSO_TCPV6 -> tso6;
            default -> false; // UDP (UFO) is not offered
        };
    }

    synchronized long frames() {
        return frames;
    }

    synchronized long dropped() {
        return dropped;
    }
}
