package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The vCPU kick signal, handled without a signal handler.
 *
 * <p>A vCPU thread blocks {@link #KICK} for itself, then tells KVM (KVM_SET_SIGNAL_MASK) to use
 * a mask without it while inside KVM_RUN. A kick is {@code tgkill(tid, KICK)}: if the thread is
 * in the guest, KVM_RUN returns EINTR at once; if it is in the VMM, the signal stays pending
 * (blocked) and the next KVM_RUN returns EINTR before entering the guest, so no kick is lost.
 * Because the signal is blocked again when KVM_RUN returns, it is never delivered: the thread
 * takes it off the pending set with {@link #consumeKick()}. No Java code ever runs in a handler.
 */
public final class Signals {
    /** SIGRTMIN + 8 in glibc's numbering: unused by the JVM. */
    public static final int KICK = 42;
    private static final int SIG_BLOCK = 0;
    /** The kernel's sigset_t: signals 1-64, one bit each (the C library's is 128 bytes). */
    private static final int SIGSET_BYTES = 8;

    private static final SystemCall SIGPROCMASK = new SystemCall(14); // rt_sigprocmask(2)
    private static final SystemCall SIGTIMEDWAIT = new SystemCall(128); // rt_sigtimedwait(2)

    private Signals() {}

    private static long bit(int signal) {
        return 1L << (signal - 1);
    }

    /**
     * Blocks {@link #KICK} in the calling thread.
     *
     * @return the kernel signal mask (signals 1-64) to use inside KVM_RUN: the thread's previous
     *         mask, which does not contain KICK
     */
    public static long blockKickInThisThread() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET_BYTES, 8);
            MemorySegment old = arena.allocate(SIGSET_BYTES, 8);
            set.set(JAVA_LONG, 0, bit(KICK));
            // rt_sigprocmask changes the calling thread's mask only, as pthread_sigmask does
            LibC.check(SIGPROCMASK.call(SIG_BLOCK, LibC.address(set), LibC.address(old), SIGSET_BYTES),
                    "pthread_sigmask");
            return old.get(JAVA_LONG, 0) & ~bit(KICK);
        }
    }

    /**
     * Removes every pending {@link #KICK} from the calling thread (real-time signals queue, so
     * several kicks may be waiting); never blocks. Must also run before a vCPU thread ends:
     * the JVM resets a dying thread's signal mask, and a kick still pending then would take the
     * default action for real-time signals, which ends the process.
     */
    public static void consumeKicks() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET_BYTES, 8);
            set.set(JAVA_LONG, 0, bit(KICK));
            MemorySegment zero = arena.allocate(16, 8);
            while (true) {
                int r = (int) SIGTIMEDWAIT.call(LibC.address(set), 0, LibC.address(zero), SIGSET_BYTES);
                if (r == -1) {
                    int errno = LibC.lastErrno();
                    if (errno == Errno.EAGAIN) {
                        return;
                    }
                    if (errno != Errno.EINTR) {
                        throw new SysException("sigtimedwait", errno);
                    }
                }
            }
        }
    }

    /** Kicks thread {@code tid} of this process. */
    public static void kick(int tid) {
        Posix.tgkill(tid, KICK);
    }
}
