package org.jbhyve.sys;

import java.lang.foreign.MemorySegment;

/**
 * One libc function, called through the single downcall shape every binding shares
 * ({@link LibC#call}): up to seven integer-class arguments in, one 64-bit register out.
 *
 * <p>Arguments are {@code long}s: Java widens {@code int}s on the way in, and on x86-64 System V
 * an {@code int} parameter is the low half of its register, so a widened value reads back
 * unchanged. Pointers go in as addresses ({@link LibC#address}). Unused trailing arguments are
 * zero; a C function ignores registers beyond its own parameters. The result is the whole
 * {@code rax} for functions that return {@code long}, {@code ssize_t} or a pointer; for those
 * that return {@code int}, whose upper half of {@code rax} is undefined, it is sign-extended from
 * {@code eax}, so -1 is still -1.
 *
 * <p>Contract: memory passed by address must stay allocated until the call returns (callers
 * pass segments of arenas they hold open across the call, or guest memory mapped for the VM's
 * lifetime). errno is captured in the same call, readable with {@link LibC#lastErrno()}.
 */
final class NativeFunction {
    private final MemorySegment symbol;
    private final boolean returnsInt;

    NativeFunction(MemorySegment symbol, boolean returnsInt) {
        this.symbol = symbol;
        this.returnsInt = returnsInt;
    }

    long call() {
        return call(0, 0, 0, 0, 0, 0, 0);
    }

    long call(long a) {
        return call(a, 0, 0, 0, 0, 0, 0);
    }

    long call(long a, long b) {
        return call(a, b, 0, 0, 0, 0, 0);
    }

    long call(long a, long b, long c) {
        return call(a, b, c, 0, 0, 0, 0);
    }

    long call(long a, long b, long c, long d) {
        return call(a, b, c, d, 0, 0, 0);
    }

    long call(long a, long b, long c, long d, long e) {
        return call(a, b, c, d, e, 0, 0);
    }

    long call(long a, long b, long c, long d, long e, long f) {
        return call(a, b, c, d, e, f, 0);
    }

    long call(long a, long b, long c, long d, long e, long f, long g) {
        return result(LibC.call(symbol, a, b, c, d, e, f, g));
    }

    /** A call with up to three arguments whose errno goes to {@code state} (see {@link CallState}). */
    long call(CallState state, long a, long b, long c) {
        return result(LibC.call(symbol, state.segment, a, b, c, 0, 0, 0, 0));
    }

    private long result(long rax) {
        return returnsInt ? (int) rax : rax;
    }
}
