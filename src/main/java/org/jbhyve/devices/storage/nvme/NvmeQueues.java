package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

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

    /** The largest admin queue AQA can describe (12-bit zero-based sizes). */
    static final int ADMIN_MAX_ENTRIES = 4096;

    /**
     * Snapshot of the tables (where each ring is and how far it got; the rings are guest RAM):
     * <pre>
     * u16 completion queues, each: u16 id, i64 base, i32 entries, bool interrupts, u16 vector,
     *                              i32 head, i32 tail, bool phase
     * u16 submission queues, each: u16 id, i64 base, i32 entries, u16 completion queue id,
     *                              i32 head, i32 tail
     * </pre>
     */
    synchronized void saveState(StateWriter out) {
        List<CompletionQueue> cqs = completionQueues();
        out.u16(cqs.size());
        for (CompletionQueue q : cqs) {
            out.u16(q.id).i64(q.base).i32(q.size).bool(q.interrupts).u16(q.vector);
            q.savePosition(out);
        }
        List<SubmissionQueue> sqs = new ArrayList<>();
        for (SubmissionQueue q : submission) {
            if (q != null) {
                sqs.add(q);
            }
        }
        out.u16(sqs.size());
        for (SubmissionQueue q : sqs) {
            out.u16(q.id).i64(q.base).i32(q.size).u16(q.cq.id).i32(q.head).i32(q.tail);
        }
    }

    /**
     * Replaces the tables with a snapshot's queues over {@code memory}: identifiers below
     * {@link #capacity}, each once; sizes 2..{@code ioEntries} (admin: up to 4096); vectors below
     * {@code vectors}; rings inside RAM; positions inside the ring; the admin submission queue
     * posting to the admin completion queue and the others to an existing I/O one.
     */
    void restoreState(StateReader in, GuestMemory memory, int ioEntries, int vectors) {
        CompletionQueue[] cqs = new CompletionQueue[completion.length];
        int n = in.u16();
        for (int i = 0; i < n; i++) {
            int id = queueId(in, cqs, "completion");
            long base = in.i64();
            int entries = entries(in, id, ioEntries);
            boolean interrupts = in.bool();
            int vector = in.u16();
            if (vector >= vectors) {
                throw in.invalid("completion queue " + id + " uses vector " + vector + " of " + vectors);
            }
            int head = position(in, entries, "completion queue " + id + " head");
            int tail = position(in, entries, "completion queue " + id + " tail");
            boolean phase = in.bool();
            CompletionQueue q = new CompletionQueue(id, base, entries, interrupts, vector,
                    ring(in, memory, base, (long) entries * CompletionQueue.ENTRY, "completion queue " + id));
            q.restorePosition(head, tail, phase);
            cqs[id] = q;
        }
        SubmissionQueue[] sqs = new SubmissionQueue[submission.length];
        n = in.u16();
        for (int i = 0; i < n; i++) {
            int id = queueId(in, sqs, "submission");
            long base = in.i64();
            int entries = entries(in, id, ioEntries);
            int cqid = in.u16();
            if (cqid >= cqs.length || cqs[cqid] == null || (id == 0) != (cqid == 0)) {
                throw in.invalid("submission queue " + id + " posts to completion queue " + cqid);
            }
            int head = position(in, entries, "submission queue " + id + " head");
            int tail = position(in, entries, "submission queue " + id + " tail");
            SubmissionQueue q = new SubmissionQueue(id, base, entries, cqs[cqid],
                    ring(in, memory, base, (long) entries * NvmeCommand.SIZE, "submission queue " + id));
            q.head = head;
            q.tail = tail;
            sqs[id] = q;
        }
        clear();
        synchronized (this) {
            System.arraycopy(cqs, 0, completion, 0, cqs.length);
            System.arraycopy(sqs, 0, submission, 0, sqs.length);
        }
    }

    private static int queueId(StateReader in, Object[] seen, String kind) {
        int id = in.u16();
        if (id >= seen.length || seen[id] != null) {
            throw in.invalid(kind + " queue " + id + " is beyond the " + seen.length + " queues or twice");
        }
        return id;
    }

    private static int entries(StateReader in, int id, int ioEntries) {
        return in.intIn(2, id == 0 ? ADMIN_MAX_ENTRIES : ioEntries, "the size of queue " + id);
    }

    private static int position(StateReader in, int entries, String what) {
        return in.intIn(0, entries - 1, what);
    }

    private static MemorySegment ring(StateReader in, GuestMemory memory, long base, long bytes, String what) {
        if (!memory.contains(base, bytes)) {
            throw in.invalid(what + " at 0x" + Long.toHexString(base) + " is outside RAM");
        }
        return memory.slice(base, bytes);
    }
}
