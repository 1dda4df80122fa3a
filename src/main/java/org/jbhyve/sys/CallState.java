package org.jbhyve.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A call-state buffer (where a downcall captures {@code errno}) owned by one thread, for a call
 * made on every VM exit: KVM_RUN. Other calls use their thread's own buffer, found through a
 * thread-local; with the client compiler that look-up costs about as much as the downcall itself
 * (25 ns of 50, measured), which the vCPU loop need not pay.
 *
 * <p>Contract: only the thread that owns it passes it to calls (the buffer is not synchronised).
 * It is freed with the object that holds it.
 */
public final class CallState {
    final MemorySegment segment = Arena.ofAuto().allocate(LibC.CALL_STATE);

    /** errno as captured by the last call that was given this buffer. */
    int errno() {
        return LibC.errnoIn(segment);
    }
}
