package org.jbhyve.devices.storage.nvme;

import java.util.ArrayList;
import java.util.List;

/**
 * The controller's queue tables: submission and completion queues by identifier, 0 being the
 * admin pair and 1..maxq the I/O queues. Lookups and changes are serialised on this object;
 * the queues themselves have their own locks, which are never taken while this one is held
 * except by {@link #clear} (called on controller reset, when nothing else changes the tables).
 */
final class NvmeQueues {
    private final SubmissionQueue[] submission;
    private final CompletionQueue[] completion;

    NvmeQueues(int maxQueues) {
        submission = new SubmissionQueue[maxQueues + 1];
        completion = new CompletionQueue[maxQueues + 1];
    }

    /** Identifiers 0..capacity()-1 are valid doorbell indexes. */
    int capacity() {
        return submission.length;
    }

    synchronized SubmissionQueue sq(int id) {
        return id >= 0 && id < submission.length ? submission[id] : null;
    }

    synchronized CompletionQueue cq(int id) {
        return id >= 0 && id < completion.length ? completion[id] : null;
    }

    synchronized void add(SubmissionQueue q) {
        if (submission[q.id] != null) {
            throw new IllegalStateException("submission queue " + q.id + " exists");
        }
        submission[q.id] = q;
    }

    synchronized void add(CompletionQueue q) {
        if (completion[q.id] != null) {
            throw new IllegalStateException("completion queue " + q.id + " exists");
        }
        completion[q.id] = q;
    }

    synchronized SubmissionQueue removeSq(int id) {
        SubmissionQueue q = submission[id];
        submission[id] = null;
        return q;
    }

    synchronized CompletionQueue removeCq(int id) {
        CompletionQueue q = completion[id];
        completion[id] = null;
        return q;
    }

    /** Whether a live submission queue posts to completion queue {@code cqid}. */
    synchronized boolean cqInUse(int cqid) {
        for (SubmissionQueue q : submission) {
            if (q != null && q.cq.id == cqid) {
                return true;
            }
        }
        return false;
    }

    /** Whether some live completion queue uses interrupt vector {@code vector}. */
    synchronized boolean vectorInUse(int vector) {
        for (CompletionQueue q : completion) {
            if (q != null && q.vector == vector) {
                return true;
            }
        }
        return false;
    }

    /** The live completion queues (for the INTx level). */
    synchronized List<CompletionQueue> completionQueues() {
        List<CompletionQueue> out = new ArrayList<>();
        for (CompletionQueue q : completion) {
            if (q != null) {
                out.add(q);
            }
        }
        return out;
    }

    /** Deletes every queue (controller reset): fetches in progress end first, later posts are dropped. */
    void clear() {
        List<SubmissionQueue> sqs = new ArrayList<>();
        List<CompletionQueue> cqs = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < submission.length; i++) {
                if (submission[i] != null) {
                    sqs.add(submission[i]);
                }
                if (completion[i] != null) {
                    cqs.add(completion[i]);
                }
                submission[i] = null;
                completion[i] = null;
            }
        }
        sqs.forEach(SubmissionQueue::kill);
        cqs.forEach(CompletionQueue::kill);
    }
}
