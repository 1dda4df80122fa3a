package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jbhyve.sys.Ioctl;
import org.junit.jupiter.api.Test;

/** KVM_EXIT_DEBUG decoding, struct kvm_fpu both ways, and the new ioctl numbers. */
class KvmDebugStructsTest {
    @Test
    void aDebugExitCarriesExceptionPcAndDebugRegisters() {
        MemorySegment page = Arena.ofAuto().allocate(4096, 8);
        page.set(JAVA_INT, 8, KvmRun.EXIT_DEBUG);
        page.set(JAVA_INT, 32, 3);
        page.set(JAVA_LONG, 40, 0xFFFF_FFFF_8100_0000L);
        page.set(JAVA_LONG, 48, 0xFFFF4FF0L);
        page.set(JAVA_LONG, 56, 0x400L);
        assertEquals(new VcpuExit.Debug(VcpuExit.Debug.BP, 0xFFFF_FFFF_8100_0000L, 0xFFFF4FF0L, 0x400L),
                new KvmRun(page).decode());
    }

    @Test
    void theFpuStructRoundTripsAtItsOffsets() {
        MemorySegment b = Arena.ofAuto().allocate(Fpu.SIZE, 8);
        for (int i = 0; i < Fpu.SIZE; i++) {
            b.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
        }
        b.set(JAVA_SHORT, 128, (short) 0x037F);
        b.set(JAVA_INT, 408, 0x1F80);
        Fpu f = Fpu.decode(b);
        assertEquals(0x037F, f.fcw);
        assertEquals(0x1F80, f.mxcsr);
        assertEquals((byte) (152 * 7), f.xmm[0]);
        assertEquals((byte) (132 * 7) & 0xFF, f.ftwx);
        assertEquals(b.get(JAVA_LONG, 136), f.lastIp);
        MemorySegment back = Arena.ofAuto().allocate(Fpu.SIZE, 8);
        f.copy().encode(back);
        back.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 133, b.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 133));
        back.set(JAVA_INT, 412, b.get(JAVA_INT, 412)); // the two pads are not kept
        assertArrayEquals(b.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                back.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Test
    void ioctlNumbersAreLinuxs() {
        assertEquals(0x81A0AE8CL, KvmIoctls.GET_FPU);
        assertEquals(0x41A0AE8DL, KvmIoctls.SET_FPU);
        assertEquals(0x4048AE9BL, KvmIoctls.SET_GUEST_DEBUG);
        assertEquals(Ioctl.iow(0xAE, 0x9b, 72), KvmIoctls.SET_GUEST_DEBUG);
    }
}
