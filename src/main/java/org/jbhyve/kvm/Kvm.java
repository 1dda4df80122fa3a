package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/** The /dev/kvm system fd: capabilities, the supported CPUID list, and VM creation. */
public final class Kvm implements AutoCloseable {
    public static final String DEVICE = "/dev/kvm";
    public static final int API_VERSION = 12;

    public static final int CAP_IRQCHIP = 0;
    public static final int CAP_NR_VCPUS = 9;
    public static final int CAP_READONLY_MEM = 21;
    public static final int CAP_SET_GUEST_DEBUG = 23;
    public static final int CAP_IRQ_ROUTING = 25;
    public static final int CAP_IRQFD = 32;
    public static final int CAP_PIT2 = 33;
    public static final int CAP_IOEVENTFD = 36;
    public static final int CAP_TSC_DEADLINE_TIMER = 72;
    public static final int CAP_MAX_VCPUS = 66;
    public static final int CAP_MAX_VCPU_ID = 128;
    public static final int CAP_IMMEDIATE_EXIT = 136;
    public static final int CAP_X86_USER_SPACE_MSR = 188;
    public static final int CAP_BINARY_STATS_FD = 203;
    /** Emulation failures exit to user space with the instruction bytes (instead of #UD). */
    public static final int CAP_EXIT_ON_EMULATION_FAILURE = 204;
    /** KVM_CAP_X86_USER_SPACE_MSR argument: exit to user space for MSRs KVM does not know. */
    public static final long MSR_EXIT_REASON_UNKNOWN = 1 << 1;

    private static final int MAX_CPUID_ENTRIES = 256;

    private final Fd fd;

    private Kvm(Fd fd) {
        this.fd = fd;
    }

    /**
     * Opens /dev/kvm and checks the API version.
     *
     * @throws KvmUnavailableException with a one-line reason when KVM cannot be used
     */
    public static Kvm open() {
        Fd fd;
        try {
            fd = Posix.open(DEVICE, Posix.O_RDWR | Posix.O_CLOEXEC, 0);
        } catch (SysException e) {
            String hint = switch (e.errno()) {
                case Errno.ENOENT -> " (is the kvm_intel or kvm_amd module loaded?)";
                case Errno.EACCES, Errno.EPERM -> " (add yourself to the kvm group or run as root)";
                default -> "";
            };
            throw new KvmUnavailableException(DEVICE + ": " + e.reason() + hint);
        }
        Kvm kvm = new Kvm(fd);
        int version = Posix.ioctl(fd, KvmIoctls.GET_API_VERSION, 0);
        if (version != API_VERSION) {
            kvm.close();
            throw new KvmUnavailableException(DEVICE + " speaks KVM API " + version + ", expected " + API_VERSION);
        }
        return kvm;
    }

    /** KVM_CHECK_EXTENSION: 0 when unsupported, otherwise a capability-specific value. */
    public int checkExtension(int capability) {
        return Posix.ioctl(fd, KvmIoctls.CHECK_EXTENSION, capability);
    }

    /** The largest vCPU count KVM allows per VM. */
    public int maxVcpus() {
        int max = checkExtension(CAP_MAX_VCPUS);
        return max > 0 ? max : Math.max(4, checkExtension(CAP_NR_VCPUS));
    }

    /** One more than the largest vCPU id (on x86 the APIC id) KVM_CREATE_VCPU accepts. */
    public int maxVcpuId() {
        int max = checkExtension(CAP_MAX_VCPU_ID);
        return max > 0 ? max : maxVcpus();
    }

    int vcpuMmapSize() {
        return Posix.ioctl(fd, KvmIoctls.GET_VCPU_MMAP_SIZE, 0);
    }

    /** KVM_GET_SUPPORTED_CPUID: every leaf the host and KVM can offer a guest. */
    public List<CpuidEntry> supportedCpuid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8 + (long) MAX_CPUID_ENTRIES * CpuidEntry.SIZE, 8);
            buf.set(JAVA_INT, 0, MAX_CPUID_ENTRIES);
            Posix.ioctl(fd, KvmIoctls.GET_SUPPORTED_CPUID, buf);
            int count = buf.get(JAVA_INT, 0);
            List<CpuidEntry> entries = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long o = 8 + (long) i * CpuidEntry.SIZE;
                entries.add(new CpuidEntry(buf.get(JAVA_INT, o), buf.get(JAVA_INT, o + 4), buf.get(JAVA_INT, o + 8),
                        buf.get(JAVA_INT, o + 12), buf.get(JAVA_INT, o + 16), buf.get(JAVA_INT, o + 20),
                        buf.get(JAVA_INT, o + 24)));
            }
            return entries;
        }
    }

    /**
     * KVM_GET_MSR_INDEX_LIST: the MSRs whose guest values KVM can save and restore (a snapshot
     * reads all of them). The first call learns the count (E2BIG), the second fills the list.
     */
    public int[] savedMsrIndexes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment probe = arena.allocate(4, 4);
            int r = Posix.ioctlOrErrno(fd, KvmIoctls.GET_MSR_INDEX_LIST, probe.address());
            int count = probe.get(JAVA_INT, 0);
            if (r >= 0) {
                return new int[0];
            }
            MemorySegment list = arena.allocate(4 + 4L * count, 4);
            list.set(JAVA_INT, 0, count);
            Posix.ioctl(fd, KvmIoctls.GET_MSR_INDEX_LIST, list);
            int n = list.get(JAVA_INT, 0);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = list.get(JAVA_INT, 4 + 4L * i);
            }
            return out;
        }
    }

    /** KVM_CREATE_VM with the default machine type. */
    public VmFd createVm() {
        int vm = Posix.ioctl(fd, KvmIoctls.CREATE_VM, 0);
        return new VmFd(new Fd(vm, "kvm-vm"), vcpuMmapSize());
    }

    @Override
    public void close() {
        fd.close();
    }
}
