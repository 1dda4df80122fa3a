package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Downcall plumbing shared by every binding in this package.
 *
 * <p>Every native call goes through one downcall handle of one shape, {@code long f(long, long,
 * long, long, long, long, long)}, with the target's address as an extra first argument, and no
 * linker options. The linker generates a class and a chain of method-handle forms for each
 * distinct shape and option set when a handle is made, at every start, since the start-up cache
 * cannot keep them; this is the costliest step of a VMM's start after the JVM's own, so there is
 * exactly one, as plain as the linker allows (capturing errno and passing a variadic callee's
 * vector-register count in {@code al} each add a layer of forms to it).
 *
 * <p>The target is nearly always the system-call entry: nine instructions of our own that move
 * the arguments from the C calling convention into the kernel's and execute {@code syscall}
 * ({@link #ENTRY_CODE}). A system call reports failure as {@code -errno} in {@code rax}; that
 * value arrives here untouched, before any other code of the JVM could run on this thread, so
 * errno needs no capture from the C library's thread-local variable, and a successful call costs
 * no errno bookkeeping at all ({@link SystemCall} records a failure's errno per thread). The
 * few C library functions that are not system calls ({@link LibraryFunction}: strerror,
 * if_nametoindex) are called through the same handle.
 */
public final class LibC {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    /** (target, seven integer arguments) -> rax. */
    private static final MethodHandle CALL = LINKER.downcallHandle(FunctionDescriptor.of(JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));

    /**
     * The system-call entry, called as {@code long entry(long number, long a1, ..., long a6)}.
     * x86-64 System V passes those in rdi, rsi, rdx, rcx, r8, r9 and on the stack; the kernel
     * takes the number in rax and the arguments in rdi, rsi, rdx, r10, r8, r9, and returns the
     * result (or -errno) in rax. The syscall instruction clobbers rcx and r11, which the calling
     * convention lets a callee clobber anyway.
     */
    private static final byte[] ENTRY_CODE = {
        0x48, (byte) 0x89, (byte) 0xf8,             // mov rax, rdi
        0x48, (byte) 0x89, (byte) 0xf7,             // mov rdi, rsi
        0x48, (byte) 0x89, (byte) 0xd6,             // mov rsi, rdx
        0x48, (byte) 0x89, (byte) 0xca,             // mov rdx, rcx
        0x4d, (byte) 0x89, (byte) 0xc2,             // mov r10, r8
        0x4d, (byte) 0x89, (byte) 0xc8,             // mov r8, r9
        0x4c, (byte) 0x8b, 0x4c, 0x24, 0x08,        // mov r9, [rsp+8]   (the sixth argument)
        0x0f, 0x05,                                 // syscall
        (byte) 0xc3,                                // ret
    };
    private static final long PAGE = 4096;
    private static final MemorySegment ENTRY = installEntry();
    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    private LibC() {}

    /**
     * Makes the downcall handle and the system-call entry now (this class's initialisation): for
     * a thread that prepares them while another does other work.
     */
    public static void link() {
        // initialising the class is the whole work
    }

    /**
     * Copies {@link #ENTRY_CODE} into a page of its own, which is then made executable and
     * read-only (never writable and executable at once). The page stays mapped for the life of
     * the process. mmap and mprotect are the C library's here: the entry does not exist yet.
     */
    private static MemorySegment installEntry() {
        long page = invoke(symbol("mmap"), 0, PAGE, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, 0, 0);
        if (page == -1) {
            throw new IllegalStateException("cannot map a page for the system-call entry");
        }
        MemorySegment code = MemorySegment.ofAddress(page).reinterpret(PAGE);
        MemorySegment.copy(ENTRY_CODE, 0, code, JAVA_BYTE, 0, ENTRY_CODE.length);
        if ((int) invoke(symbol("mprotect"), page, PAGE, Posix.PROT_READ | Posix.PROT_EXEC, 0, 0, 0, 0) != 0) {
            throw new IllegalStateException("cannot make the system-call entry executable");
        }
        return code;
    }

    /** The C library function {@code name}, whose C return type is {@code int}. */
    static LibraryFunction intFunction(String name) {
        return new LibraryFunction(symbol(name), true);
    }

    /** The C library function {@code name}, whose C return type is 64 bits wide (long, a pointer). */
    static LibraryFunction longFunction(String name) {
        return new LibraryFunction(symbol(name), false);
    }

    private static MemorySegment symbol(String name) {
        return LOOKUP.find(name).orElseThrow(() -> new IllegalStateException("libc has no symbol " + name));
    }

    /** Calls the native function at {@code target} with seven integer-class arguments; returns rax. */
    static long invoke(MemorySegment target, long a, long b, long c, long d, long e, long f, long g) {
        try {
            return (long) CALL.invokeExact(target, a, b, c, d, e, f, g);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** System call {@code number}: its result, or -errno (-4095 to -1) when it failed. */
    static long systemCall(long number, long a, long b, long c, long d, long e, long f) {
        return invoke(ENTRY, number, a, b, c, d, e, f);
    }

    /** Whether a system call's result is -errno: the kernel's errors are -4095 to -1. */
    static boolean failed(long result) {
        return Long.compareUnsigned(result, -4096L) > 0;
    }

    /** Records {@code errno} as this thread's last one (see {@link #lastErrno()}). */
    static void setLastErrno(int errno) {
        LAST_ERRNO.get()[0] = errno;
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

    /** errno of this thread's most recent failed system call. */
    static int lastErrno() {
        return LAST_ERRNO.get()[0];
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
