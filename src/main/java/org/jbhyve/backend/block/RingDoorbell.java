package org.jbhyve.backend.block;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * How submitters wake a ring thread that sleeps in io_uring_enter: an eventfd on which the ring
 * thread always has a READ posted, so writing it completes that read and ends the wait.
 *
 * <p>The eventfd is written only when it has to be: the ring thread says {@link #sleeping()}
 * before it checks its queue a last time and enters the kernel, and {@link #awake()} after; a
 * submitter that queued something calls {@link #ring()}, which writes only if the thread said
 * it sleeps (and takes that back, so one write serves a whole burst). Either the thread sees
 * the new request in its last check or the submitter sees it sleeping: a wake-up is never lost
 * (both flags are sequentially consistent). A thread inside {@link #plug()}/{@link #unplug()}
 * does not ring until the outermost unplug, so a batch costs one write.
 */
final class RingDoorbell implements AutoCloseable {
    private static final ThreadLocal<MemorySegment> ONE = ThreadLocal.withInitial(() -> {
        MemorySegment s = Arena.global().allocate(ValueLayout.JAVA_LONG);
        s.set(ValueLayout.JAVA_LONG, 0, 1L);
        return s;
    });

    // Blocking: io_uring would complete a READ on a non-blocking eventfd at once with EAGAIN.
    private final Fd fd = Posix.eventfd(0, Posix.EFD_CLOEXEC);
    private final AtomicBoolean asleep = new AtomicBoolean();
    private final ThreadLocal<int[]> plugs = ThreadLocal.withInitial(() -> new int[1]);

    /** The eventfd, for the ring thread's READ. */
    Fd fd() {
        return fd;
    }

    /** Ring thread: about to look at its queue a last time, then sleep. */
    void sleeping() {
        asleep.set(true);
    }

    /** Ring thread: not sleeping (any more). */
    void awake() {
        asleep.set(false);
    }

    /** Submitter: something was queued; wakes the ring thread if it sleeps and this thread is not plugged. */
    void ring() {
        if (plugs.get()[0] == 0) {
            wake();
        }
    }

    void plug() {
        plugs.get()[0]++;
    }

    /** Ends a plug; the outermost one rings. */
    void unplug() {
        int[] depth = plugs.get();
        if (depth[0] > 0 && --depth[0] == 0) {
            wake();
        }
    }

    private void wake() {
        if (asleep.get() && asleep.compareAndSet(true, false)) {
            force();
        }
    }

    /** Writes the eventfd whatever the ring thread said (to make it look at its state). */
    void force() {
        try {
            Posix.write(fd, ONE.get(), 8);
        } catch (SysException | IllegalStateException e) {
            // closed: the ring thread has ended, nothing to wake
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
