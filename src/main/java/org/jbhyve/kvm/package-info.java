/**
 * The KVM API shaped like rust-vmm's kvm-ioctls: {@link org.jbhyve.kvm.Kvm} (the /dev/kvm fd:
 * capabilities, supported CPUID, VM creation) → {@link org.jbhyve.kvm.VmFd} (memory slots,
 * in-kernel irqchip and PIT, IRQ lines, MSIs, irqfd, ioeventfd, GSI routing) →
 * {@link org.jbhyve.kvm.VcpuFd} (KVM_RUN, registers, CPUID, signal mask, MP state, stats).
 * The only package that issues KVM ioctls; it depends on {@code sys} alone.
 *
 * <p>{@link org.jbhyve.kvm.KvmRun} is a view of the shared kvm_run page; exits are decoded into
 * the sealed {@link org.jbhyve.kvm.VcpuExit} so the vCPU loop is an exhaustive switch. Struct
 * layouts are written by hand with offsets documented where they are used (kvm_regs, kvm_sregs,
 * kvm_run's union); they are x86-64 only, as the project is.
 *
 * <p>{@link org.jbhyve.kvm.VcpuStats} reads KVM's binary statistics: the {@code blocking} stat is
 * how the VMM learns that a guest sleeps in HLT inside the in-kernel LAPIC, which bhyve's exit
 * status 2 (halted with interrupts off) needs.
 */
package org.jbhyve.kvm;
