package org.jbhyve.devices.net;

import static org.jbhyve.devices.net.E1000Registers.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.LongSupplier;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The 82545EM statistics block (0x4000-0x40FF): 32-bit counters that clear when read, except
 * the 64-bit octet counters (GORC, GOTC, TOR, TOT), whose pair clears when its high half is
 * read. MPC (missed packets) also counts the frames the backend dropped because the guest did
 * not take them. Not thread-safe: the device serialises access.
 */
final class E1000Statistics {
    private final long[] counters = new long[(STATS_END - STATS) / 4];
    private final LongSupplier backendDrops;
    private long dropsSeen;

    /** @param backendDrops the backend's running count of dropped frames */
    E1000Statistics(LongSupplier backendDrops) {
        this.backendDrops = backendDrops;
        this.dropsSeen = backendDrops.getAsLong();
    }

    /** Power-on reset: all counters zero, backend drops counted from now on. */
    void reset() {
        Arrays.fill(counters, 0);
        dropsSeen = backendDrops.getAsLong();
    }

    /** A guest read of the register at {@code offset} (in the statistics block). */
    int read(int offset) {
        int i = (offset - STATS) >> 2;
        long v;
        switch (offset) {
            case MPC -> {
                long dropped = backendDrops.getAsLong();
                v = counters[i] + dropped - dropsSeen;
                dropsSeen = dropped;
            }
            case GORCL, GOTCL, TORL, TOTL -> {
                return (int) counters[i]; // the pair clears when its high half is read
            }
            case GORCH, GOTCH, TORH, TOTH -> {
                v = counters[i - 1] >>> 32;
                counters[i - 1] = 0;
            }
            default -> v = counters[i];
        }
        counters[i] = 0;
        return (int) Math.min(v, 0xFFFFFFFFL);
    }

    /**
     * Snapshot layout: the 64 counters, MPC including the frames the backend dropped since MPC
     * was last read (the backend itself is not saved: a restored device counts its drops anew).
     */
    void save(StateWriter out) {
        long[] saved = counters.clone();
        saved[(MPC - STATS) >> 2] += backendDrops.getAsLong() - dropsSeen;
        out.longs(saved);
    }

    void restore(StateReader in) {
        long[] saved = in.longs(counters.length);
        System.arraycopy(saved, 0, counters, 0, counters.length);
        dropsSeen = backendDrops.getAsLong();
    }

    void count(int register, long amount) {
        counters[(register - STATS) >> 2] += amount;
    }

    /** Counts a good frame of {@code length} bytes (FCS included) received or transmitted. */
    void countFrame(MemorySegment frame, long length, boolean received) {
        int sizeIndex = length <= 64 ? 0 : length >= 1024 ? 5 : 31 - Integer.numberOfLeadingZeros((int) length) - 5;
        boolean multicast = (frame.get(ValueLayout.JAVA_BYTE, 0) & 1) != 0;
        boolean broadcast = multicast && E1000AddressFilter.isBroadcast(frame);
        if (received) {
            count(GPRC, 1);
            count(TPR, 1);
            count(GORCL, length);
            count(TORL, length);
            count(PRC64 + 4 * sizeIndex, 1);
            count(broadcast ? BPRC : MPRC, multicast ? 1 : 0);
        } else {
            count(GPTC, 1);
            count(TPT, 1);
            count(GOTCL, length);
            count(TOTL, length);
            count(PTC64 + 4 * sizeIndex, 1);
            count(broadcast ? BPTC : MPTC, multicast ? 1 : 0);
        }
    }
}
