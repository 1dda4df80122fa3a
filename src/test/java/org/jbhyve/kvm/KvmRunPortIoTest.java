package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** KVM_EXIT_IO: the decoded access and its data, read and answered in place (kvm_run.io, api.rst). */
class KvmRunPortIoTest {
    /** kvm_run's first page and the page after it, where KVM puts port data. */
    private final MemorySegment page = Arena.ofAuto().allocate(8192, 8);

    private VcpuExit.Io exit(boolean out, int size, int port, int count, long dataOffset) {
        page.set(JAVA_INT, 8, KvmRun.EXIT_IO);
        page.set(JAVA_BYTE, 32, (byte) (out ? 1 : 0));
        page.set(JAVA_BYTE, 33, (byte) size);
        page.set(JAVA_SHORT, 34, (short) port);
        page.set(JAVA_INT, 36, count);
        page.set(JAVA_LONG, 40, dataOffset);
        return (VcpuExit.Io) new KvmRun(page).decode();
    }

    @Test
    void aStringWriteOfWordsReadsEachElementLittleEndian() {
        VcpuExit.Io io = exit(true, 2, 0x3F8, 3, 4096);
        assertEquals(new VcpuExit.Io(true, 0x3F8, 2, 3), io);
        byte[] data = {0x34, 0x12, (byte) 0xCD, (byte) 0xAB, 0x01, 0x00};
        MemorySegment.copy(data, 0, page, JAVA_BYTE, 4096, data.length);
        KvmRun run = new KvmRun(page);
        assertEquals(0x1234, run.ioValue(io, 0));
        assertEquals(0xABCD, run.ioValue(io, 1), "unsigned");
        assertEquals(0x0001, run.ioValue(io, 2));
    }

    @Test
    void readsAreAnsweredInPlaceForEachSize() {
        KvmRun run = new KvmRun(page);
        VcpuExit.Io inb = exit(false, 1, 0x71, 1, 4096);
        run.setIoValue(inb, 0, 0x1AB);
        assertEquals((byte) 0xAB, page.get(JAVA_BYTE, 4096), "only the access's width is written");
        VcpuExit.Io inl = exit(false, 4, 0xCFC, 2, 4100);
        run.setIoValue(inl, 1, 0xFEEDBEEFL);
        assertEquals(0xEF, Byte.toUnsignedInt(page.get(JAVA_BYTE, 4104)), "little-endian, second element");
        assertEquals(0xFEEDBEEFL, run.ioValue(inl, 1));
    }

    @Test
    void anOffsetOutsideTheMappingIsRefusedNotFollowed() {
        VcpuExit.Io io = exit(true, 4, 0x80, 1, 8190);
        assertThrows(IndexOutOfBoundsException.class, () -> new KvmRun(page).ioValue(io, 0));
    }

    @Test
    void anOffsetBeyondFourGigabytesIsRefusedNotWrappedIntoThePage() {
        VcpuExit.Io io = exit(true, 1, 0x80, 1, 0x1_0000_1000L); // as a 32-bit index: 4096, inside
        assertThrows(IndexOutOfBoundsException.class, () -> new KvmRun(page).ioValue(io, 0));
        VcpuExit.Io negative = exit(false, 1, 0x80, 1, -4096);
        assertThrows(IndexOutOfBoundsException.class, () -> new KvmRun(page).setIoValue(negative, 0, 1));
    }
}
