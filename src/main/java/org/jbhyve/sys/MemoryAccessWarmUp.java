package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Runs each kind of off-heap access the VMM's set-up uses once, so that the JDK's one-time work
 * behind them is done early: the var handles of the value layouts (the layout-path machinery's
 * class initialisation, whose method handles are made at every start, as the start-up cache keeps
 * none) and the method-handle forms each access mode links to.
 *
 * <p>Contract: pure Java, no native call, no lasting state; the only effect is that later
 * accesses of these kinds link faster. Its use: the thread that will set the VM up runs it while
 * another thread links the system-call binding ({@link LibC#link()}), which the set-up waits for
 * anyway; the two take about as long on a translated CPU, so the wait shrinks by this work.
 */
public final class MemoryAccessWarmUp {
    private MemoryAccessWarmUp() {}

    /** Reads and writes 64 bytes of native memory in every layout the set-up uses. */
    public static void run() {
        byte[] text = {'w', 'a', 'r', 'm', 0};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64, 8);
            s.fill((byte) 0);
            s.set(JAVA_BYTE, 1, s.get(JAVA_BYTE, 0));
            s.set(JAVA_SHORT, 2, s.get(JAVA_SHORT, 0));
            s.set(JAVA_SHORT_UNALIGNED, 3, s.get(JAVA_SHORT_UNALIGNED, 1));
            s.set(JAVA_INT, 4, s.get(JAVA_INT, 0));
            s.set(JAVA_INT_UNALIGNED, 5, s.get(JAVA_INT_UNALIGNED, 1));
            s.set(JAVA_LONG, 8, s.get(JAVA_LONG, 0));
            s.set(JAVA_LONG_UNALIGNED, 9, s.get(JAVA_LONG_UNALIGNED, 1));
            s.setAtIndex(JAVA_LONG, 2, s.getAtIndex(JAVA_LONG, 1));
            s.set(ADDRESS, 24, s.asSlice(32, 8));
            MemorySegment.copy(text, 0, s, JAVA_BYTE, 32, text.length);
            MemorySegment.copy(s, 32, s, 40, 8);
            s.asSlice(40).getString(0);
            arena.allocateFrom("warm");
        }
    }
}
