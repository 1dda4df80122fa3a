package org.jbhyve.snapshot;

import java.io.PrintStream;

/**
 * One progress line on stderr while a big snapshot is written or read ("snapshot: writing
 * 512/2048 MiB"), rewritten in place with a carriage return and ended with a newline. Small
 * snapshots (under {@link #QUIET_BELOW} bytes of memory) print nothing.
 */
final class Progress {
    static final long QUIET_BELOW = 256L << 20;
    private static final long STEP = 64L << 20;

    private final PrintStream out;
    private final String verb;
    private final long total;
    private long shown;

    Progress(PrintStream out, String verb, long total) {
        this.out = total >= QUIET_BELOW ? out : null;
        this.verb = verb;
        this.total = total;
    }

    void advance(long done) {
        if (out != null && (done - shown >= STEP || done == total)) {
            shown = done;
            out.print("\rsnapshot: " + verb + " " + (done >> 20) + "/" + (total >> 20) + " MiB");
            out.flush();
        }
    }

    void finish() {
        if (out != null) {
            advance(total);
            out.println();
        }
    }
}
