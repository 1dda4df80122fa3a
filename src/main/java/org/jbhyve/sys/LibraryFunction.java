package org.jbhyve.sys;

import java.lang.foreign.MemorySegment;

/**
 * One C library function that is not a system call (strerror, if_nametoindex), called through
 * the single downcall shape every binding shares ({@link LibC#invoke}): up to seven
 * integer-class arguments in, one 64-bit register out.
 *
 * <p>Arguments are {@code long}s: Java widens {@code int}s on the way in, and on x86-64 System V
 * an {@code int} parameter is the low half of its register, so a widened value reads back
 * unchanged. Pointers go in as addresses ({@link LibC#address}). Unused trailing arguments are
 * zero; a C function ignores registers beyond its own parameters. The result is the whole
 * {@code rax} for functions that return {@code long} or a pointer; for those that return
 * {@code int}, whose upper half of {@code rax} is undefined, it is sign-extended from {@code eax}.
 *
 * <p>Contract: the function is not variadic (the call leaves {@code al}, a variadic callee's
 * count of vector arguments, undefined), and its errno is not kept: these functions report
 * failure through their result alone. Memory passed by address must stay allocated until the
 * call returns.
 */
final class LibraryFunction {
    private final MemorySegment symbol;
    private final boolean returnsInt;

    LibraryFunction(MemorySegment symbol, boolean returnsInt) {
        this.symbol = symbol;
        this.returnsInt = returnsInt;
    }

    long call(long a) {
        return call(a, 0, 0);
    }

    long call(long a, long b, long c) {
        long rax = LibC.invoke(symbol, a, b, c, 0, 0, 0, 0);
        return returnsInt ? (int) rax : rax;
    }
}
