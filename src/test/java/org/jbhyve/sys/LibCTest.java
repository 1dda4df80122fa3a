package org.jbhyve.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The single downcall shape: int results sign-extended, errno captured, pointers checked. */
class LibCTest {
    @Test
    void memberOffsetAgreesWithTheLayoutPathAcrossPadding() {
        StructLayout struct = MemoryLayout.structLayout(ValueLayout.JAVA_BYTE.withName("a"), MemoryLayout.paddingLayout(3),
                ValueLayout.JAVA_INT.withName("b"), ValueLayout.JAVA_LONG.withName("c"));
        for (String name : new String[] {"a", "b", "c"}) {
            assertEquals(struct.byteOffset(MemoryLayout.PathElement.groupElement(name)), LibC.memberOffset(struct, name));
        }
        assertEquals(LibC.CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno")),
                LibC.memberOffset(LibC.CALL_STATE, "errno"));
        assertThrows(IllegalStateException.class, () -> LibC.memberOffset(struct, "d"));
    }

    @Test
    void anIntFunctionsMinusOneStaysMinusOneAndErrnoIsCaptured() {
        NativeFunction close = LibC.intFunction("close");
        assertEquals(-1L, close.call(-1));
        assertEquals(Errno.EBADF, LibC.lastErrno());
    }

    @Test
    void aLongFunctionReturnsAllSixtyFourBits() {
        NativeFunction strtol = LibC.longFunction("strtoll");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocateFrom("-81985529216486895"); // -0x123456789abcdef
            assertEquals(-81985529216486895L, strtol.call(LibC.address(text), 0, 10));
            MemorySegment big = arena.allocateFrom("4294967296");
            assertEquals(1L << 32, strtol.call(LibC.address(big), 0, 10));
        }
    }

    @Test
    void memoryIsPassedByAddressAndFilledByTheCallee() {
        NativeFunction snprintf = LibC.intFunction("snprintf");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(32);
            MemorySegment format = arena.allocateFrom("%ld-%d");
            long written = snprintf.call(LibC.address(buffer), buffer.byteSize(), LibC.address(format), 1L << 40, 7);
            assertEquals("1099511627776-7", buffer.getString(0));
            assertEquals(15, written);
        }
    }

    @Test
    void heapMemoryHasNoAddressACalleeCouldUse() {
        MemorySegment heap = MemorySegment.ofArray(new byte[16]);
        assertThrows(IllegalArgumentException.class, () -> LibC.address(heap));
        assertEquals(0L, LibC.address(MemorySegment.NULL));
    }

    @Test
    void errnoIsPerThread() throws InterruptedException {
        NativeFunction close = LibC.intFunction("close");
        close.call(-1);
        int[] otherErrno = new int[1];
        Thread other = new Thread(() -> {
            try (Arena arena = Arena.ofConfined()) {
                LibC.intFunction("open").call(LibC.address(arena.allocateFrom("/nonexistent/jbhyve")), 0);
                otherErrno[0] = LibC.lastErrno();
            }
        });
        other.start();
        other.join();
        assertEquals(Errno.ENOENT, otherErrno[0]);
        assertEquals(Errno.EBADF, LibC.lastErrno());
    }
}
