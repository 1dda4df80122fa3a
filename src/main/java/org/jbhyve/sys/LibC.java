package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Downcall plumbing shared by every binding in this package.
 *
 * <p>Every libc function is called through one downcall handle of one shape, {@code long f(long,
 * long, long, long, long, long, long)}, with the function's address as an argument
 * ({@link NativeFunction}). The linker generates a class (and a few dozen method-handle forms)
 * for each distinct shape when a handle is made, at every start, since the start-up cache cannot
 * keep them; one shape instead of the twenty-odd C signatures used here saves that work (about
 * 100 ms and 10 MiB of resident memory per VMM process on a native CPU).
 *
 * <p>The handle captures {@code errno} into a call-state segment right after the call (reading
 * errno later would race with the JVM's own calls). {@link #errnoSegment()} hands out one such
 * segment per thread, so the hot path (pread/pwrite) allocates nothing; KVM_RUN passes its vCPU's
 * own ({@link CallState}).
 */
public final class LibC {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET = memberOffset(CALL_STATE, "errno");
    private static final ThreadLocal<MemorySegment> CALL_STATE_PER_THREAD =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));
    /**
     * (function, call state, seven integer arguments) -> rax. Declared variadic after the first
     * argument so that {@code al} (the count of vector registers used) is set to 0, as a variadic
     * callee such as ioctl, fcntl, open or syscall expects; a fixed-arity callee ignores it.
     */
    private static final MethodHandle CALL = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));

    private LibC() {}

    /**
     * Makes the downcall handle now (this class's initialisation, the costliest step of a VMM's
     * start after the JVM's own): for a thread that prepares it while another does other work.
     */
    public static void link() {
        // initialising the class is the whole work
    }

    /**
     * The offset of the member {@code name} of {@code struct}, summed over the members before it
     * (padding is a member too). The same as {@code byteOffset(groupElement(name))}, whose layout
     * path machinery costs 4 ms of CPU at every start.
     */
    static long memberOffset(StructLayout struct, String name) {
        long offset = 0;
        for (MemoryLayout member : struct.memberLayouts()) {
            if (name.equals(member.name().orElse(null))) {
                return offset;
            }
            offset += member.byteSize();
        }
        throw new IllegalStateException(struct + " has no member " + name);
    }

    /** The libc function {@code name}, whose C return type is {@code int}. */
    static NativeFunction intFunction(String name) {
        return new NativeFunction(symbol(name), true);
    }

    /** The libc function {@code name}, whose C return type is 64 bits wide (long, ssize_t, a pointer). */
    static NativeFunction longFunction(String name) {
        return new NativeFunction(symbol(name), false);
    }

    private static MemorySegment symbol(String name) {
        return LOOKUP.find(name).orElseThrow(() -> new IllegalStateException("libc has no symbol " + name));
    }

    static long call(MemorySegment function, long a, long b, long c, long d, long e, long f, long g) {
        return call(function, errnoSegment(), a, b, c, d, e, f, g);
    }

    /** A call that captures errno into {@code callState} (a segment of layout {@link #CALL_STATE}). */
    static long call(MemorySegment function, MemorySegment callState, long a, long b, long c, long d, long e,
            long f, long g) {
        try {
            return (long) CALL.invokeExact(function, callState, a, b, c, d, e, f, g);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The address of {@code segment} as a call argument. Only native memory has an address a
     * C function can use: a heap segment is refused rather than passed as a meaningless offset.
     */
    static long address(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("a native call needs native memory, not " + segment);
        }
        return segment.address();
    }

    /** This thread's call-state segment, into which every call captures errno. */
    static MemorySegment errnoSegment() {
        return CALL_STATE_PER_THREAD.get();
    }

    /** errno as captured by this thread's most recent call. */
    static int lastErrno() {
        return errnoIn(errnoSegment());
    }

    /** errno as captured into {@code callState}. */
    static int errnoIn(MemorySegment callState) {
        return callState.get(JAVA_INT, ERRNO_OFFSET);
    }

    /** Turns a -1 return into a {@link SysException} carrying errno; returns {@code result} otherwise. */
    static long check(long result, String call) {
        if (result == -1) {
            throw new SysException(call, lastErrno());
        }
        return result;
    }

    /** Rethrows what a downcall handle threw: only Errors and RuntimeExceptions are possible. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
