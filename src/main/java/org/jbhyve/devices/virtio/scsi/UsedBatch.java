package org.jbhyve.devices.virtio.scsi;

import java.util.Arrays;

/**
 * Completions of one queue gathered into batches: each batch is published with one used-index
 * update and at most one interrupt (virtio's used-ring protocol allows any number of entries per
 * update). Whoever finds no batch being published publishes, and keeps publishing until no
 * completion is left (flat combining); the others only append. A queue thread that is about to
 * complete many requests inline holds the batch open ({@link #hold}/{@link #release}) so a whole
 * kick's worth goes out at once.
 *
 * <p>Each entry may carry an action that runs after its entry has been published (the task set
 * uses it to answer TMFs only after the commands they wait for are visible to the driver).
 * Every entry counts in the device's {@link Activity} from {@link #complete} until it is
 * published and its action has run.
 */
final class UsedBatch {
    /** Publishes {@code count} entries with one index update (and interrupts if the driver wants one). */
    interface Publisher {
        void publish(int[] heads, int[] lengths, int count);
    }

    private final Publisher publisher;
    private final Activity activity;
    private int[] heads = new int[16];
    private int[] lengths = new int[16];
    private Runnable[] after = new Runnable[16];
    private int[] spareHeads = new int[16];
    private int[] spareLengths = new int[16];
    private Runnable[] spareAfter = new Runnable[16];
    private int count;
    private int holders;
    private boolean publishing;

    UsedBatch(Publisher publisher, Activity activity) {
        this.publisher = publisher;
        this.activity = activity;
    }

    /** Adds chain {@code head} with {@code length} bytes written; {@code then} (may be null) runs once published. */
    void complete(int head, int length, Runnable then) {
        activity.enter(1);
        synchronized (this) {
            if (count == heads.length) {
                heads = Arrays.copyOf(heads, count * 2);
                lengths = Arrays.copyOf(lengths, count * 2);
                after = Arrays.copyOf(after, count * 2);
            }
            heads[count] = head;
            lengths[count] = length;
            after[count] = then;
            count++;
            if (holders > 0 || publishing) {
                return;
            }
            publishing = true;
        }
        drain();
    }

    /** Delays publishing until the matching {@link #release}. */
    synchronized void hold() {
        holders++;
    }

    /** Ends a {@link #hold}; the last one publishes what gathered meanwhile. */
    void release() {
        synchronized (this) {
            if (--holders > 0 || publishing || count == 0) {
                return;
            }
            publishing = true;
        }
        drain();
    }

    private void drain() {
        boolean done = false;
        try {
            while (true) {
                int[] h;
                int[] l;
                Runnable[] a;
                int n;
                synchronized (this) {
                    if (count == 0 || holders > 0) {
                        publishing = false;
                        done = true;
                        return;
                    }
                    h = heads;
                    l = lengths;
                    a = after;
                    n = count;
                    heads = spareHeads;
                    lengths = spareLengths;
                    after = spareAfter;
                    count = 0;
                }
                try {
                    publisher.publish(h, l, n);
                    for (int i = 0; i < n; i++) {
                        Runnable r = a[i];
                        a[i] = null;
                        if (r != null) {
                            r.run();
                        }
                    }
                } finally {
                    activity.exit(n);
                }
                synchronized (this) { // the drained arrays become the spares (one publisher at a time)
                    spareHeads = h;
                    spareLengths = l;
                    spareAfter = a;
                }
            }
        } finally {
            if (!done) {
                synchronized (this) {
                    publishing = false;
                }
            }
        }
    }
}
