package org.jbhyve.sys;

/**
 * Where a system call made on every VM exit (KVM_RUN) records its errno when it fails, owned by
 * one thread. Other calls record errno in their thread's own slot, found through a
 * thread-local; the vCPU loop need not pay for that look-up on its way out of a failed KVM_RUN
 * (EINTR after a kick is a normal exit).
 *
 * <p>Contract: only the thread that owns it passes it to calls (it is not synchronised).
 */
public final class CallState {
    int errno;

    /** errno of the last failed call that was given this state. */
    int errno() {
        return errno;
    }
}
