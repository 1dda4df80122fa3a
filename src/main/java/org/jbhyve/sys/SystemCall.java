package org.jbhyve.sys;

/**
 * One Linux system call on x86-64, made directly through the system-call entry
 * ({@link LibC#systemCall}): its number and up to six integer-class arguments in, the kernel's
 * result out, as the C library's wrapper would return it.
 *
 * <p>Arguments are {@code long}s: Java widens {@code int}s, and the kernel reads an {@code int}
 * parameter from the low half of its register. Pointers go in as addresses
 * ({@link LibC#address}). Unused trailing arguments are zero, which the kernel ignores (or, for
 * prctl, insists on). The kernel returns a {@code long} for every call, so an {@code int} result
 * is already sign-extended.
 *
 * <p>Contract: a failure (the kernel's -errno) is returned as -1, as by the C library, and its
 * errno recorded for the calling thread ({@link LibC#lastErrno()}); or, from
 * {@link #resultOrMinusErrno}, the kernel's -errno as it is. The numbers are the kernel's own for x86-64 ({@code asm/unistd_64.h}), the
 * calls those the C library's wrappers make (open is openat, eventfd is eventfd2). Memory passed
 * by address must stay allocated until the call returns.
 */
final class SystemCall {
    private final long number;

    SystemCall(long number) {
        this.number = number;
    }

    long call() {
        return call(0, 0, 0, 0, 0, 0);
    }

    long call(long a) {
        return call(a, 0, 0, 0, 0, 0);
    }

    long call(long a, long b) {
        return call(a, b, 0, 0, 0, 0);
    }

    long call(long a, long b, long c) {
        return call(a, b, c, 0, 0, 0);
    }

    long call(long a, long b, long c, long d) {
        return call(a, b, c, d, 0, 0);
    }

    long call(long a, long b, long c, long d, long e) {
        return call(a, b, c, d, e, 0);
    }

    long call(long a, long b, long c, long d, long e, long f) {
        long result = LibC.systemCall(number, a, b, c, d, e, f);
        if (LibC.failed(result)) {
            LibC.setLastErrno((int) -result);
            return -1;
        }
        return result;
    }

    /** The call returning the kernel's result as it is: -errno on failure, recorded nowhere. */
    long resultOrMinusErrno(long a, long b, long c, long d, long e, long f) {
        return LibC.systemCall(number, a, b, c, d, e, f);
    }
}
