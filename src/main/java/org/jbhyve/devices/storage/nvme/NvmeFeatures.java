package org.jbhyve.devices.storage.nvme;

import java.util.function.IntPredicate;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * Get Features / Set Features (NVMe 1.4, section 5.21) for the features bhyve keeps, by
 * identifier (cdw10 7:0; Get's cdw10 10:8 selects current 0, default 1, saved 2, capabilities 3;
 * Set's cdw10 bit 31 asks to save, which nothing here can):
 *
 * <pre>
 * 01h Arbitration  02h Power Management  08h Interrupt Coalescing  0Ah Write Atomicity: kept as set
 * 04h Temperature Threshold: TMPSEL 0 or Fh, THSEL 0 (over) or 1 (under); crossing 296 K sets
 *     the SMART temperature warning and raises a SMART event
 * 05h Error Recovery: namespace specific (NSID 1)
 * 06h Volatile Write Cache: bit 0 WCE, only when a write cache exists (otherwise Invalid Field)
 * 07h Number of Queues: NSQR 15:0, NCQR 31:16 (zero-based, FFFFh invalid), once per reset;
 *     granted min(requested, maxq), reported in completion dword 0
 * 09h Interrupt Vector Configuration: IV must be a vector some completion queue uses
 * 0Bh Asynchronous Event Configuration: default 11Fh; bit 14 (endurance groups) refused
 * </pre>
 * Other identifiers are Invalid Field. A controller reset restores every default. Thread-safe.
 */
final class NvmeFeatures {
    static final int ARBITRATION = 0x01, POWER_MANAGEMENT = 0x02, TEMPERATURE = 0x04, ERROR_RECOVERY = 0x05;
    static final int WRITE_CACHE = 0x06, NUMBER_OF_QUEUES = 0x07, INTERRUPT_COALESCING = 0x08;
    static final int INTERRUPT_VECTOR = 0x09, WRITE_ATOMICITY = 0x0A, ASYNC_EVENTS = 0x0B;
    static final int ASYNC_EVENTS_DEFAULT = 0x11F;
    private static final int COUNT = 0x19;
    private static final int GLOBAL_NSID = 0xFFFFFFFF;

    /** A feature command's outcome; {@code warning} >= 0 asks for a SMART event with that critical warning. */
    record Result(int status, int cdw0, int warning) {
        static Result of(int status) {
            return new Result(status, 0, -1);
        }
    }

    private final int maxQueues;
    private final boolean writeCachePresent;
    private final NvmeLogPages logs;
    private final IntPredicate vectorInUse;
    private final int[] defaults = new int[COUNT];
    private final int[] current = new int[COUNT];
    private boolean queuesSet;

    NvmeFeatures(int maxQueues, boolean writeCachePresent, NvmeLogPages logs, IntPredicate vectorInUse) {
        this.maxQueues = maxQueues;
        this.writeCachePresent = writeCachePresent;
        this.logs = logs;
        this.vectorInUse = vectorInUse;
        defaults[TEMPERATURE] = 0x157;
        defaults[WRITE_CACHE] = 1;
        defaults[NUMBER_OF_QUEUES] = (maxQueues - 1) | (maxQueues - 1) << 16;
        defaults[ASYNC_EVENTS] = ASYNC_EVENTS_DEFAULT;
        reset();
    }

    /** Controller reset: defaults back, Number of Queues may be set again. */
    synchronized void reset() {
        System.arraycopy(defaults, 0, current, 0, COUNT);
        queuesSet = false;
    }

    /** I/O submission queues the host may create (1..maxq). */
    synchronized int submissionQueues() {
        return (current[NUMBER_OF_QUEUES] & 0xFFFF) + 1;
    }

    /** I/O completion queues the host may create (1..maxq). */
    synchronized int completionQueues() {
        return (current[NUMBER_OF_QUEUES] >>> 16) + 1;
    }

    /** The Asynchronous Event Configuration (which events may be reported). */
    synchronized int asyncEventConfiguration() {
        return current[ASYNC_EVENTS];
    }

    /** Whether the volatile write cache is on (writes are flushed right away when it is off). */
    synchronized boolean writeCacheEnabled() {
        return writeCachePresent && (current[WRITE_CACHE] & 1) != 0;
    }

    synchronized Result get(int cdw10, int nsid) {
        int fid = cdw10 & 0xFF;
        int select = (cdw10 >>> 8) & 0x7;
        if (!supported(fid) || select > 3) {
            return Result.of(NvmeStatus.INVALID_FIELD);
        }
        int scope = checkNamespace(fid, nsid);
        if (scope != NvmeStatus.SUCCESS) {
            return Result.of(scope);
        }
        int value = switch (select) {
            case 3 -> (fid == ERROR_RECOVERY ? 1 << 1 : 0) | 1 << 2; // namespace specific, changeable
            case 1, 2 -> defaults[fid];
            default -> current[fid];
        };
        return new Result(NvmeStatus.SUCCESS, value, -1);
    }

    synchronized Result set(int cdw10, int cdw11, int nsid) {
        int fid = cdw10 & 0xFF;
        if (!supported(fid)) {
            return Result.of(NvmeStatus.INVALID_FIELD);
        }
        if (cdw10 < 0) {
            return Result.of(NvmeStatus.FEATURE_NOT_SAVEABLE);
        }
        int scope = checkNamespace(fid, nsid);
        if (scope != NvmeStatus.SUCCESS) {
            return Result.of(scope);
        }
        return switch (fid) {
            case NUMBER_OF_QUEUES -> numberOfQueues(cdw11);
            case TEMPERATURE -> temperature(cdw11);
            case INTERRUPT_VECTOR -> {
                int iv = cdw11 & 0xFFFF;
                boolean coalescingDisabled = (cdw11 & 1 << 16) != 0;
                if (iv > maxQueues || (iv == 0 && !coalescingDisabled) || !vectorInUse.test(iv)) {
                    yield Result.of(NvmeStatus.INVALID_FIELD);
                }
                yield store(fid, cdw11);
            }
            case ASYNC_EVENTS -> (cdw11 & 0x4000) != 0 ? Result.of(NvmeStatus.INVALID_FIELD) : store(fid, cdw11);
            case WRITE_CACHE -> store(fid, cdw11 & 1);
            default -> store(fid, cdw11);
        };
    }

    private Result store(int fid, int value) {
        current[fid] = value;
        return Result.of(NvmeStatus.SUCCESS);
    }

    private Result numberOfQueues(int cdw11) {
        if (queuesSet) {
            return Result.of(NvmeStatus.COMMAND_SEQUENCE_ERROR);
        }
        int nsqr = cdw11 & 0xFFFF;
        int ncqr = cdw11 >>> 16;
        if (nsqr == 0xFFFF || ncqr == 0xFFFF) {
            return Result.of(NvmeStatus.INVALID_FIELD);
        }
        int granted = Math.min(nsqr + 1, maxQueues) - 1 | (Math.min(ncqr + 1, maxQueues) - 1) << 16;
        current[NUMBER_OF_QUEUES] = granted;
        queuesSet = true;
        return new Result(NvmeStatus.SUCCESS, granted, -1);
    }

    private Result temperature(int cdw11) {
        int threshold = cdw11 & 0xFFFF;
        int select = (cdw11 >>> 16) & 0xF;
        int type = (cdw11 >>> 20) & 0x3;
        if ((select != 0 && select != 0xF) || type > 1) {
            return Result.of(NvmeStatus.INVALID_FIELD);
        }
        boolean crossed = type == 0 ? NvmeLogPages.TEMPERATURE_KELVIN >= threshold
                : NvmeLogPages.TEMPERATURE_KELVIN <= threshold;
        int warning = logs.temperatureWarning(crossed);
        current[TEMPERATURE] = cdw11;
        return new Result(NvmeStatus.SUCCESS, 0, crossed ? warning : -1);
    }

    private boolean supported(int fid) {
        return switch (fid) {
            case ARBITRATION, POWER_MANAGEMENT, TEMPERATURE, ERROR_RECOVERY, NUMBER_OF_QUEUES,
                 INTERRUPT_COALESCING, INTERRUPT_VECTOR, WRITE_ATOMICITY, ASYNC_EVENTS -> true;
            case WRITE_CACHE -> writeCachePresent;
            default -> false;
        };
    }

    /** bhyve's scoping: Error Recovery wants NSID 1, the others NSID 0 or FFFFFFFFh. */
    private static int checkNamespace(int fid, int nsid) {
        if (fid == ERROR_RECOVERY) {
            return nsid == 1 ? NvmeStatus.SUCCESS : NvmeStatus.INVALID_NAMESPACE;
        }
        return nsid == 0 || nsid == GLOBAL_NSID ? NvmeStatus.SUCCESS : NvmeStatus.FEATURE_NOT_NAMESPACE_SPECIFIC;
    }

    /** Snapshot: the current value of every feature identifier 0..18h (ints), bool Number of Queues already set. */
    synchronized void saveState(StateWriter out) {
        out.ints(current).bool(queuesSet);
    }

    /** Reads {@link #saveState}'s values; a queue count above maxq is corrupt (queue ids index tables). */
    synchronized void restoreState(StateReader in) {
        int[] values = in.ints(COUNT);
        boolean set = in.bool();
        int queues = values[NUMBER_OF_QUEUES];
        if ((queues & 0xFFFF) >= maxQueues || queues >>> 16 >= maxQueues) {
            throw in.invalid("Number of Queues is 0x" + Integer.toHexString(queues) + " with maxq " + maxQueues);
        }
        System.arraycopy(values, 0, current, 0, COUNT);
        queuesSet = set;
    }
}
