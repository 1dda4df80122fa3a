package org.jbhyve.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Downcall plumbing shared by every binding in this package.
 *
 * <p>Each libc function is looked up once, as a {@link MethodHandle} whose first parameter is a
 * call-state segment into which the linker captures {@code errno} right after the call (reading
 * errno later would race with the JVM's own calls). {@link #errnoSegment()} hands out one such
 * segment per thread, so the hot path (KVM_RUN, pread/pwrite) allocates nothing.
 */
public final class LibC {
    static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final ThreadLocal<MemorySegment> CALL_STATE_PER_THREAD =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

    private LibC() {}

    /** A handle for {@code name} that captures errno; invoke it with {@link #errnoSegment()} first. */
    static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new IllegalStateException("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** A handle for {@code name} that does not touch errno (for functions that cannot fail). */
    static MethodHandle plainFunction(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new IllegalStateException("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** This thread's call-state segment, the first argument of every errno-capturing handle. */
    static MemorySegment errnoSegment() {
        return CALL_STATE_PER_THREAD.get();
    }

    /** errno as captured by this thread's most recent errno-capturing call. */
    static int lastErrno() {
        return (int) ERRNO.get(errnoSegment(), 0L);
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
