package org.jbhyve.vcpu;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * jbhyve's own per-vCPU counters, next to KVM's statistics in bhyvectl's {@code --get-stats}:
 * how many times KVM_RUN returned to user space, by reason, and how many outside requests the
 * vCPU ran. The vCPU thread is the only writer (a plain increment published with release
 * semantics, no locked instruction on the exit path); readers on other threads see a recent
 * value.
 */
public final class ExitCounters {
    /** The counters, in the order they are reported. */
    public enum Kind {
        IO("jbhyve.exits.io"), MMIO("jbhyve.exits.mmio"), INTERRUPTED("jbhyve.exits.interrupted"),
        MSR("jbhyve.exits.msr"), HALT("jbhyve.exits.hlt"), SYSTEM_EVENT("jbhyve.exits.system_event"),
        SHUTDOWN("jbhyve.exits.shutdown"), ERROR("jbhyve.exits.error"), DEBUG("jbhyve.exits.debug"),
        OTHER("jbhyve.exits.other"),
        REQUESTS("jbhyve.control_requests");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final AtomicLongArray counts = new AtomicLongArray(Kind.values().length);

    /** Single writer: the vCPU thread. */
    void count(Kind kind) {
        int i = kind.ordinal();
        counts.setRelease(i, counts.getPlain(i) + 1);
    }

    public long get(Kind kind) {
        return counts.getAcquire(kind.ordinal());
    }

    /** Every counter with its label, in {@link Kind} order. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            out.put(k.label(), get(k));
        }
        return out;
    }
}
