package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** KVM_EXIT_INTERNAL_ERROR decoding: the emulation-failure instruction bytes, when KVM gives them. */
class KvmRunInternalErrorTest {
    private final MemorySegment page = Arena.ofAuto().allocate(4096, 8);

    private VcpuExit.InternalError decode(int suberror, int ndata, long flags, byte[] insn) {
        page.set(JAVA_INT, 8, KvmRun.EXIT_INTERNAL_ERROR);
        page.set(JAVA_INT, 32, suberror);
        page.set(JAVA_INT, 36, ndata);
        page.set(JAVA_LONG, 40, flags);
        page.set(JAVA_BYTE, 48, (byte) insn.length);
        MemorySegment.copy(insn, 0, page, JAVA_BYTE, 49, insn.length);
        return (VcpuExit.InternalError) new KvmRun(page).decode();
    }

    @Test
    void emulationFailureCarriesTheInstructionBytes() {
        VcpuExit.InternalError e = decode(1, 4, 1, new byte[] {(byte) 0xDB, (byte) 0xE3});
        assertEquals(VcpuExit.InternalError.EMULATION, e.suberror());
        assertArrayEquals(new byte[] {(byte) 0xDB, (byte) 0xE3}, e.instruction());
    }

    @Test
    void noBytesWithoutTheFlagOrForOtherSuberrors() {
        assertEquals(0, decode(1, 4, 0, new byte[] {1, 2}).instruction().length);
        assertEquals(0, decode(1, 2, 1, new byte[] {1, 2}).instruction().length, "ndata too small to hold them");
        assertEquals(0, decode(3, 4, 1, new byte[] {1, 2}).instruction().length);
    }

    @Test
    void aHostileLengthIsCappedAtFifteen() {
        page.fill((byte) 0x90);
        VcpuExit.InternalError e = decode(1, 4, 1, new byte[0]);
        page.set(JAVA_BYTE, 48, (byte) 200);
        e = (VcpuExit.InternalError) new KvmRun(page).decode();
        assertEquals(15, e.instruction().length);
    }
}
