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
 *
 * <p>A debugger stops vCPUs for as long as it likes with {@link org.jbhyve.vcpu.VcpuLoop#hold()}
 * (the loop stays out of KVM_RUN and keeps running requests) and lets them go with
 * {@code release()}; debug exits and emulation failures go to its
 * {@link org.jbhyve.vcpu.VcpuDebugHook}, which may claim an emulation failure at an int3 it
 * planted as a breakpoint hit instead of the fatal error it otherwise is.
 */
package org.jbhyve.vcpu;
