package org.jbhyve.kvm;

import org.jbhyve.sys.Ioctl;

/** KVM ioctl numbers from linux/kvm.h (type 0xAE), with their argument struct sizes. */
final class KvmIoctls {
    private static final int KVMIO = 0xAE;

    static final long GET_API_VERSION = Ioctl.io(KVMIO, 0x00);
    static final long CREATE_VM = Ioctl.io(KVMIO, 0x01);
    static final long CHECK_EXTENSION = Ioctl.io(KVMIO, 0x03);
    static final long GET_VCPU_MMAP_SIZE = Ioctl.io(KVMIO, 0x04);
    static final long GET_SUPPORTED_CPUID = Ioctl.iowr(KVMIO, 0x05, 8);
    static final long CREATE_VCPU = Ioctl.io(KVMIO, 0x41);
    static final long SET_USER_MEMORY_REGION = Ioctl.iow(KVMIO, 0x46, 32);
    static final long SET_TSS_ADDR = Ioctl.io(KVMIO, 0x47);
    static final long SET_IDENTITY_MAP_ADDR = Ioctl.iow(KVMIO, 0x48, 8);
    static final long CREATE_IRQCHIP = Ioctl.io(KVMIO, 0x60);
    static final long IRQ_LINE = Ioctl.iow(KVMIO, 0x61, 8);
    static final long SET_GSI_ROUTING = Ioctl.iow(KVMIO, 0x6a, 8);
    static final long IRQFD = Ioctl.iow(KVMIO, 0x76, 32);
    static final long CREATE_PIT2 = Ioctl.iow(KVMIO, 0x77, 64);
    static final long IOEVENTFD = Ioctl.iow(KVMIO, 0x79, 64);
    static final long ENABLE_CAP = Ioctl.iow(KVMIO, 0xa3, 104);
    static final long SIGNAL_MSI = Ioctl.iow(KVMIO, 0xa5, 32);
    static final long RUN = Ioctl.io(KVMIO, 0x80);
    static final long GET_REGS = Ioctl.ior(KVMIO, 0x81, KvmStructs.REGS_SIZE);
    static final long SET_REGS = Ioctl.iow(KVMIO, 0x82, KvmStructs.REGS_SIZE);
    static final long GET_SREGS = Ioctl.ior(KVMIO, 0x83, KvmStructs.SREGS_SIZE);
    static final long SET_SREGS = Ioctl.iow(KVMIO, 0x84, KvmStructs.SREGS_SIZE);
    static final long GET_MSRS = Ioctl.iowr(KVMIO, 0x88, 8);
    static final long GET_MSR_INDEX_LIST = Ioctl.iowr(KVMIO, 0x02, 4);
    static final long GET_IRQCHIP = Ioctl.iowr(KVMIO, 0x62, 520);
    static final long SET_IRQCHIP = Ioctl.ior(KVMIO, 0x63, 520);
    static final long SET_MSRS = Ioctl.iow(KVMIO, 0x89, 8);
    static final long SET_SIGNAL_MASK = Ioctl.iow(KVMIO, 0x8b, 4);
    static final long SET_CPUID2 = Ioctl.iow(KVMIO, 0x90, 8);
    static final long GET_FPU = Ioctl.ior(KVMIO, 0x8c, Fpu.SIZE);
    static final long SET_FPU = Ioctl.iow(KVMIO, 0x8d, Fpu.SIZE);
    static final long GET_MP_STATE = Ioctl.ior(KVMIO, 0x98, 4);
    static final long NMI = Ioctl.io(KVMIO, 0x9a);
    static final long SET_GUEST_DEBUG = Ioctl.iow(KVMIO, 0x9b, KvmStructs.GUEST_DEBUG_SIZE);
    static final long GET_VCPU_EVENTS = Ioctl.ior(KVMIO, 0x9f, KvmStructs.VCPU_EVENTS_SIZE);
    static final long GET_DEBUGREGS = Ioctl.ior(KVMIO, 0xa1, KvmStructs.DEBUGREGS_SIZE);
    static final long SET_DEBUGREGS = Ioctl.iow(KVMIO, 0xa2, KvmStructs.DEBUGREGS_SIZE);
    static final long GET_STATS_FD = Ioctl.io(KVMIO, 0xce);

    private KvmIoctls() {}
}
