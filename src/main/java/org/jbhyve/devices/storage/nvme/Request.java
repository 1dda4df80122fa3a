package org.jbhyve.devices.storage.nvme;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A fetched command on its way to completion: where its completion goes (a reserved slot of
 * {@link #cq}), the command identifier to report, and whether it holds one of the controller's
 * I/O slots ({@code ioslots=}). Completed exactly once.
 */
final class Request {
    final SubmissionQueue sq;
    final CompletionQueue cq;
    final int cid;
    final int opcode;
    final boolean usesSlot;
    private final AtomicBoolean done = new AtomicBoolean();

    Request(SubmissionQueue sq, int cid, int opcode, boolean usesSlot) {
        this.sq = sq;
        this.cq = sq.cq;
        this.cid = cid;
        this.opcode = opcode;
        this.usesSlot = usesSlot;
    }

    /** True the first time only: the caller is the one that completes the request. */
    boolean markDone() {
        return done.compareAndSet(false, true);
    }
}
