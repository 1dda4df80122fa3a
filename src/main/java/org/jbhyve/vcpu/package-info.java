/**
 * One platform thread per vCPU ({@link org.jbhyve.vcpu.VcpuLoop}): KVM_RUN, decode, dispatch to
 * the port or MMIO bus, repeat. Never a virtual thread: KVM_RUN blocks in native code.
 *
 * <p>Other threads reach a vCPU only by kicking it (a blocked real-time signal that KVM_RUN
 * sees; see {@link org.jbhyve.sys.Signals}) and by the idle probe, which asks the vCPU itself to
 * read its MP state and RFLAGS.IF, since KVM serialises vCPU ioctls on the vCPU's own mutex.
 * The first exit request wins ({@link org.jbhyve.vcpu.VmControl}); statuses are bhyve's
 * ({@link org.jbhyve.vcpu.ExitStatus}).
 */
package org.jbhyve.vcpu;
