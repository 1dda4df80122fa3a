package org.jbhyve.backend.net;

import java.lang.foreign.MemorySegment;
import java.util.OptionalInt;

/**
 * The host end of a guest network interface (e1000, virtio-net): Ethernet frames out, frames in.
 *
 * <h2>Frames and virtio-net headers</h2>
 * By default a frame is a bare Ethernet frame (destination MAC first, no FCS). After
 * {@link #setVnetHeader(int)} with 10 or 12, every frame sent and received starts with a
 * {@code struct virtio_net_hdr} of that size (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset[, num_buffers]), and {@link #setOffloads} says which offloads the receiver takes.
 *
 * <h2>Threads</h2>
 * {@link #send} may be called from any thread (vCPU threads, a device's transmit thread); it
 * does not block on a slow host beyond one write. Received frames are read by a backend thread
 * into a bounded queue; when the queue is full new frames are dropped and counted
 * ({@link #droppedFrames}). The listener set with {@link #setReceiveListener} runs on that thread,
 * with no backend lock held, each time frames were queued; the device then takes what it has
 * room for with {@link #receive} (never blocks) and leaves the rest queued. A device whose
 * receive ring was full calls {@link #receive} again when the guest gives it buffers.
 */
public interface NetBackend extends AutoCloseable {
    /** Largest frame handled, virtio-net header excluded (64 KiB: a TSO super-frame). */
    int MAX_FRAME = 65536;

    /** What the user named, e.g. {@code tap0}. */
    String name();

    /**
     * Sends one frame made of {@code parts} in order (gather). Returns false when it was dropped
     * (host interface down, too large, a host error: logged once, counted).
     */
    boolean send(MemorySegment... parts);

    /**
     * Takes one frame for the next {@link #flush}: a backend that can hand many frames to the
     * host in one call does so there, the others send it now (this default). The memory the parts
     * refer to must stay unchanged until {@code flush} returns (the array itself is not kept).
     * Returns false when the frame was dropped already.
     */
    default boolean queue(MemorySegment... parts) {
        return send(parts);
    }

    /**
     * Sends the frames {@link #queue} took since the last flush and waits until the host has
     * them; returns how many of them were dropped (counted and logged as {@link #send} does).
     */
    default int flush() {
        return 0;
    }

    /** Length of the next queued frame (header included when enabled), or -1 when none. */
    int peekLength();

    /**
     * Copies the next queued frame into {@code buffers} in order (scatter) and removes it.
     * Returns the frame's length (header included when enabled), or -1 when none is queued.
     * Bytes that do not fit in the buffers are cut off; the caller compares with the result.
     */
    int receive(MemorySegment... buffers);

    /** Drops the next queued frame; false when none was queued. */
    boolean discard();

    /** Called on the backend's thread after frames were queued; null: none. */
    void setReceiveListener(Runnable listener);

    /** 0 (bare frames, the default), 10 ({@code virtio_net_hdr}) or 12 (with num_buffers). */
    void setVnetHeader(int size);

    int vnetHeaderSize();

    /**
     * Which offloads frames <em>received</em> from the host may use (partially checksummed,
     * TSO/UFO super-frames); needs a virtio-net header. All false: the host completes them.
     */
    void setOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn, boolean ufo);

    /** The MTU configured with {@code mtu=} (applied to the host interface), if any. */
    OptionalInt mtu();

    /** Frames received from the host and dropped because the queue was full. */
    long droppedFrames();

    /** Stops the receive thread and releases the host interface; idempotent. */
    @Override
    void close();
}
