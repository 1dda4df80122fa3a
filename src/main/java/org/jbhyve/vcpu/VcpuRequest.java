package org.jbhyve.vcpu;

import org.jbhyve.kvm.VcpuFd;

/**
 * Work that must run on a vCPU's own thread while the vCPU is out of KVM_RUN: KVM serialises
 * every vCPU ioctl on the vCPU's mutex, which KVM_RUN holds while the guest runs, so register
 * access from any other thread would wait for the next exit. See {@link VcpuLoop#submit}.
 *
 * @param <T> what the request answers
 */
@FunctionalInterface
public interface VcpuRequest<T> {
    /** Runs on the vCPU thread with the guest stopped and its state consistent. */
    T run(VcpuFd vcpu);
}
