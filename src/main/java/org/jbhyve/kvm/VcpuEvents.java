package org.jbhyve.kvm;

/**
 * The events a vCPU has in flight (struct kvm_vcpu_events, x86): an exception being delivered
 * ({@code exceptionInjected}, vector, optional error code) or, with KVM_CAP_EXCEPTION_PAYLOAD,
 * only queued ({@code exceptionPending}); an external or software interrupt being delivered
 * (vector {@code interruptNr}, {@code interruptSoft} for INT n); an NMI being delivered or
 * waiting ({@code nmiPending}) and whether NMIs are blocked ({@code nmiMasked}).
 *
 * <p>"Injected" events were being delivered when the vCPU last left the guest and will be
 * re-delivered on the next entry (VMX's IDT-vectoring information); "pending" ones have not
 * started yet.
 */
public record VcpuEvents(boolean exceptionInjected, int exceptionNr, boolean exceptionHasErrorCode,
                         boolean exceptionPending, int errorCode, boolean interruptInjected, int interruptNr,
                         boolean interruptSoft, boolean nmiInjected, boolean nmiPending, boolean nmiMasked) {
}
