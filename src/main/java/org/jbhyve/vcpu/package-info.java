/**
 * One platform thread per vCPU ({@link org.jbhyve.vcpu.VcpuLoop}): KVM_RUN, decode, dispatch to
 * the port or MMIO bus, repeat. Never a virtual thread: KVM_RUN blocks in native code.
 *
 * <p>Other threads reach a vCPU only by kicking it (a blocked real-time signal that KVM_RUN
 * sees; see {@link org.jbhyve.sys.Signals}), by the idle probe, which asks the vCPU itself to
 * read its MP state and RFLAGS.IF, and by requests ({@link org.jbhyve.vcpu.VcpuRequest}, run on
 * the vCPU's thread the next time it is out of KVM_RUN), since KVM serialises vCPU ioctls on the
 * vCPU's own mutex. Requests are how bhyvectl reads and writes registers
 * ({@link org.jbhyve.vcpu.VcpuRegisters}: bhyve's register names over kvm_regs, kvm_sregs and
 * kvm_debugregs) while the other vCPUs keep running. The first exit request wins
 * ({@link org.jbhyve.vcpu.VmControl}); statuses are bhyve's ({@link org.jbhyve.vcpu.ExitStatus});
 * {@link org.jbhyve.vcpu.ExitCounters} counts exits by reason for --get-stats.
 */
package org.jbhyve.vcpu;
