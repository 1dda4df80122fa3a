/**
 * FFM bindings to libc and Linux: the only package that links native code (checked by
 * ArchitectureTest).
 *
 * <p>Every function is called through one downcall handle of one shape (seven integer-class
 * arguments, one 64-bit result: {@link org.jbhyve.sys.NativeFunction}) that captures
 * {@code errno} in the same call ({@code Linker.Option.captureCallState}); reading errno
 * afterwards would race with the JVM's own native calls. One shape, not one per C signature:
 * the linker spins a class and dozens of method-handle forms per shape at every start, which
 * cost more start-up time and memory than the rest of the VMM's set-up. The capture segment is
 * per thread, so hot paths (KVM_RUN, pread) allocate nothing. Failures become {@link org.jbhyve.sys.SysException} (unchecked, with errno);
 * restartable calls retry EINTR; ioctl surfaces it, because KVM_RUN's EINTR is a kick.
 *
 * <p>Departure from DESIGN.md: errors are unchecked rather than IOException (Lucene's choice),
 * because almost every caller either turns them into a one-line start-up error or treats them
 * as a broken invariant; checked exceptions would only be rethrown.
 *
 * <p>Signals: the vCPU kick uses no signal handler at all (see {@link org.jbhyve.sys.Signals}):
 * Java code must never run in a handler, and blocking the signal outside KVM_RUN gives the same
 * "no lost wake-up" guarantee QEMU gets from its SIG_IPI handling.
 */
package org.jbhyve.sys;
