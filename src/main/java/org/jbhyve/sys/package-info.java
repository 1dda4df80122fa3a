/**
 * FFM bindings to libc and Linux: the only package that links native code (checked by
 * ArchitectureTest).
 *
 * <p>Every native call goes through one downcall handle of one shape (seven integer-class
 * arguments, one 64-bit result) and no linker options ({@link org.jbhyve.sys.LibC}): the linker
 * spins a class and dozens of method-handle forms per shape and option set at every start, which
 * cost more start-up time and memory than the rest of the VMM's set-up. System calls are made
 * directly, not through the C library's wrappers ({@link org.jbhyve.sys.SystemCall}): the handle
 * calls a nine-instruction system-call entry of our own, and the kernel's -errno comes back in
 * the result itself, so errno needs no capture and reading it cannot race with the JVM's own
 * native calls. A failure's errno is kept per thread, and KVM_RUN takes the kernel's -errno as
 * it is ({@link org.jbhyve.sys.Posix#ioctlOrErrno}), so hot paths allocate nothing. Failures become
 * {@link org.jbhyve.sys.SysException} (unchecked, with errno); restartable calls and ioctl retry
 * EINTR (a signal meant for something else must not fail KVM_CREATE_VM), except KVM_RUN, whose
 * EINTR is a kick and comes back as a result. The few C library functions used that
 * are not system calls ({@link org.jbhyve.sys.LibraryFunction}) go through the same handle.
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
