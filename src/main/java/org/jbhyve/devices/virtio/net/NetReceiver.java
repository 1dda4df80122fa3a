package org.jbhyve.devices.virtio.net;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.backend.net.NetBackend;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * The receive queue: frames from the backend (header included) into the driver's device-writable
 * chains (virtio 1.x 5.1.6.3).
 *
 * <ul>
 *   <li>Without MRG_RXBUF a frame goes into one chain, which must hold all of it; a frame too
 *       large for the next chain is dropped and counted, and the chain waits for the next frame.</li>
 *   <li>With MRG_RXBUF a frame takes as many chains as it needs, in ring order; the device writes
 *       their number into the header's num_buffers and returns them as consecutive used entries.
 *       A frame larger than the whole ring is dropped.</li>
 * </ul>
 * Chains popped for a frame that could not be delivered yet (not enough buffers, a filtered or
 * vanished frame) are kept, in order, in {@code spare} and used first next time: the core has no
 * way to push a chain back. A chain with device-readable buffers, or too small to hold a header
 * and an Ethernet header, is returned unused (length 0) and counted.
 *
 * <p>Runs on the receive worker only; {@link #reset} waits for the batch in progress.
 */
final class NetReceiver {
    private static final int ETHER_HEADER = 14;
    /** Frames per lock hold: the backend queues at most 256, so one drain usually empties it. */
    private static final int BATCH = 256;

    private final NetBackend backend;
    private final NetControl control;
    private final ArrayDeque<DescriptorChain> spare = new ArrayDeque<>();
    private final List<DescriptorChain> taken = new ArrayList<>();
    private final byte[] destination = new byte[6];
    private MemorySegment[] parts = new MemorySegment[64];
    private VirtioTransport transport;
    private int header;
    private boolean merge;
    private boolean paused;
    private long frames;
    private long dropped;
    private long badChains;

    NetReceiver(NetBackend backend, NetControl control) {
        this.backend = backend;
        this.control = control;
    }

    synchronized void activate(VirtioTransport transport, int header, boolean merge) {
        this.transport = transport;
        this.header = header;
        this.merge = merge;
        spare.clear();
    }

    synchronized void reset() {
        transport = null;
        spare.clear();
    }

    /**
     * Stops delivering frames (after the batch in progress) until {@link #resume}; frames that
     * arrive meanwhile wait in the backend's bounded queue. Chains held for a frame are given
     * back to the ring, so no popped chain is left outside the saved ring positions.
     */
    synchronized void pause() {
        paused = true;
        if (transport != null && !spare.isEmpty()) {
            transport.queue(VirtioNet.RX).unpop(spare.size());
        }
        spare.clear();
    }

    synchronized void resume() {
        paused = false;
    }

    private enum Outcome { DELIVERED, DROPPED, NO_BUFFERS, NO_FRAME }

    /**
     * Delivers queued frames while there are buffers, up to {@value #BATCH}; publishes and
     * interrupts once. Returns true when it stopped at the limit (the worker calls again).
     */
    synchronized boolean drain() {
        VirtioTransport t = transport;
        if (t == null || paused) {
            return false;
        }
        Virtqueue q = t.queue(VirtioNet.RX);
        if (!q.isReady()) {
            return false;
        }
        int handled = 0;
        try {
            while (handled < BATCH) {
                int length = backend.peekLength();
                if (length < 0) {
                    break;
                }
                Outcome o = deliver(q, length);
                if (o == Outcome.NO_BUFFERS || o == Outcome.NO_FRAME) {
                    break;
                }
                handled++;
            }
        } catch (VirtqueueException e) {
            t.queueBroken(q, e);
            spare.clear();
            handled = 0;
        }
        t.notifyUsed(q); // one interrupt for the batch; nothing when nothing was published
        return handled == BATCH;
    }

    /** The next chain for a frame: a spare one first, else one from the ring; null when none. */
    private DescriptorChain next(Virtqueue q, boolean first) {
        for (int attempts = q.size(); attempts > 0; attempts--) {
            DescriptorChain c = spare.pollFirst();
            if (c == null) {
                c = q.pop();
                if (c == null) {
                    return null;
                }
            }
            if (c.readableCount() != 0 || c.writableBytes() < (first ? header + ETHER_HEADER : 1)) {
                q.addUsed(c.head(), 0); // unusable layout: give it back empty
                badChains++;
                continue;
            }
            return c;
        }
        return null;
    }

    private Outcome deliver(Virtqueue q, int length) {
        taken.clear();
        long capacity = 0;
        int descriptors = 0;
        while (capacity < length) {
            DescriptorChain c = next(q, taken.isEmpty());
            if (c == null) {
                if (descriptors >= q.size()) {
                    break; // the whole ring is not enough: drop below rather than wait forever
                }
                putBack();
                return Outcome.NO_BUFFERS;
            }
            taken.add(c);
            capacity += c.writableBytes();
            descriptors += c.count();
            if (!merge) {
                break;
            }
        }
        if (capacity < length) {
            backend.discard();
            dropped++;
            putBack();
            return Outcome.DROPPED;
        }
        int n = 0;
        for (DescriptorChain c : taken) {
            for (int i = 0; i < c.count(); i++) {
                if (n == parts.length) {
                    parts = java.util.Arrays.copyOf(parts, n * 2);
                }
                parts[n++] = c.segment(i);
            }
        }
        int got = backend.receive(n == parts.length ? parts : java.util.Arrays.copyOf(parts, n));
        Outcome o = finish(q, got, capacity, n);
        java.util.Arrays.fill(parts, 0, n, null);
        return o;
    }

    private Outcome finish(Virtqueue q, int got, long capacity, int n) {
        if (got < 0) {
            putBack();
            return Outcome.NO_FRAME;
        }
        if (got > capacity || got < header + ETHER_HEADER) {
            dropped++; // another frame than the one peeked (the backend dropped one): truncated
            putBack();
            return Outcome.DROPPED;
        }
        if (control.filtering()) {
            for (int i = 0; i < 6; i++) {
                destination[i] = (byte) Scatter.get(parts, n, header + i);
            }
            if (!control.accepts(destination)) {
                dropped++;
                putBack();
                return Outcome.DROPPED;
            }
        }
        // Chains needed for what was received; any extra one waits for the next frame.
        int buffers = 0;
        long left = got;
        while (left > 0) {
            left -= taken.get(buffers++).writableBytes();
        }
        for (int i = taken.size() - 1; i >= buffers; i--) {
            spare.addFirst(taken.remove(i));
        }
        if (header == 12) {
            Scatter.putShort(parts, n, 10, buffers); // num_buffers: the tap leaves it unwritten
        }
        left = got;
        for (DescriptorChain c : taken) {
            long w = Math.min(left, c.writableBytes());
            q.addUsed(c.head(), (int) w);
            left -= w;
        }
        taken.clear();
        frames++;
        return Outcome.DELIVERED;
    }

    /** Keeps the chains taken for a frame, in ring order, ahead of the other spare ones. */
    private void putBack() {
        for (int i = taken.size() - 1; i >= 0; i--) {
            spare.addFirst(taken.get(i));
        }
        taken.clear();
    }

    synchronized long frames() {
        return frames;
    }

    synchronized long dropped() {
        return dropped;
    }

    synchronized long badChains() {
        return badChains;
    }
}
