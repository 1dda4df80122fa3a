package org.jbhyve.devices.virtio.scsi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The task set (SAM-5 8.5): which commands are in progress, by LUN and tag, so that task
 * management functions can wait for them. This target cannot stop a host read or write that has
 * started, so ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET and I_T NEXUS RESET
 * all answer once the commands they name have completed; a command counts as completed when its
 * used-ring entry is published (virtio 1.2 5.6.6.2: the driver may rely on every command the
 * TMF affects having completed before the TMF's response).
 *
 * <p>Threads: started on the queue thread, finished on whichever thread published the
 * completion; waiters run on the thread that finished the last command they waited for, or on
 * the caller's if nothing is in progress. Actions run outside the lock.
 */
final class TaskSet {
    /** A waiter for every LUN. */
    static final int ALL_LUNS = -1;

    private record Waiter(int lun, boolean oneTag, long tag, Runnable action) {}

    private final Map<Integer, Map<Long, Integer>> running = new HashMap<>();
    private final List<Waiter> waiters = new ArrayList<>();

    synchronized void started(int lun, long tag) {
        running.computeIfAbsent(lun, k -> new HashMap<>()).merge(tag, 1, Integer::sum);
    }

    void finished(int lun, long tag) {
        List<Runnable> ready = new ArrayList<>();
        synchronized (this) {
            Map<Long, Integer> tags = running.get(lun);
            if (tags == null || !tags.containsKey(tag)) {
                throw new IllegalStateException("finished a command that never started: lun " + lun + " tag " + tag);
            }
            if (tags.merge(tag, -1, Integer::sum) == 0) {
                tags.remove(tag);
                if (tags.isEmpty()) {
                    running.remove(lun);
                }
            }
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (!busy(w.lun(), w.oneTag(), w.tag())) {
                    it.remove();
                    ready.add(w.action());
                }
            }
        }
        ready.forEach(Runnable::run);
    }

    /** Whether command {@code tag} on {@code lun} is in progress (QUERY TASK). */
    synchronized boolean isRunning(int lun, long tag) {
        return busy(lun, true, tag);
    }

    /** Whether any command on {@code lun} ({@link #ALL_LUNS}: on any LUN) is in progress. */
    synchronized boolean isBusy(int lun) {
        return busy(lun, false, 0);
    }

    /**
     * Runs {@code action} once no command matching ({@code lun}, and {@code tag} if
     * {@code oneTag}) is in progress: now if none is.
     */
    void whenIdle(int lun, boolean oneTag, long tag, Runnable action) {
        synchronized (this) {
            if (busy(lun, oneTag, tag)) {
                waiters.add(new Waiter(lun, oneTag, tag, action));
                return;
            }
        }
        action.run();
    }

    synchronized int inProgress() {
        return running.values().stream().mapToInt(m -> m.values().stream().mapToInt(Integer::intValue).sum()).sum();
    }

    private boolean busy(int lun, boolean oneTag, long tag) {
        if (lun == ALL_LUNS) {
            return !running.isEmpty();
        }
        Map<Long, Integer> tags = running.get(lun);
        return tags != null && (!oneTag || tags.containsKey(tag));
    }
}
