package org.jbhyve.vcpu;

import org.jbhyve.kvm.VcpuExit;
import org.jbhyve.kvm.VcpuFd;

/**
 * Where a vCPU loop sends what only a debugger understands. Both methods run on the vCPU's own
 * thread, out of KVM_RUN, so they may use {@code vcpu}'s ioctls; they must return soon (a
 * debugger that wants the vCPU stopped calls {@link VcpuLoop#hold()} instead of blocking here).
 *
 * <p>Two ways a software breakpoint shows up. With KVM_GUESTDBG_USE_SW_BP, KVM intercepts the
 * {@code #BP} an {@code int3} raises and exits with KVM_EXIT_DEBUG. But where KVM emulates guest
 * code instruction by instruction (a software nested KVM, real mode without unrestricted guest),
 * its emulator has no {@code int3} and stops with an emulation failure, RIP still at the
 * {@code 0xCC}: that is a breakpoint too when the debugger planted one there.
 */
public interface VcpuDebugHook {
    /** KVM_EXIT_DEBUG on vCPU {@code index}: a #DB (step, debug register) or an intercepted #BP. */
    void debugExit(int index, VcpuFd vcpu, VcpuExit.Debug exit);

    /**
     * A KVM internal error on vCPU {@code index}. Returns true when the debugger takes it (a
     * breakpoint it planted: the loop then goes on, the debugger having held the vCPU); false
     * makes it the fatal error it is without a debugger.
     */
    boolean internalError(int index, VcpuFd vcpu, VcpuExit.InternalError error);
}
