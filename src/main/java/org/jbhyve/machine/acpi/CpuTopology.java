package org.jbhyve.machine.acpi;

/**
 * vCPU topology ({@code -c cpus,sockets=,cores=,threads=}) and the APIC ids it implies.
 *
 * <p>APIC ids follow the bit-field layout CPUID leaf 0xB reports: the low
 * {@code threadBits = ceil(log2(threads))} bits number the thread within a core, the next
 * {@code coreBits = ceil(log2(cores))} bits number the core within a socket and the rest
 * number the socket. vCPU {@code n} is thread {@code n % threads} of core
 * {@code (n / threads) % cores} of socket {@code n / (cores * threads)}. With non power of
 * two counts the ids have gaps (3 cores use ids 0, 1, 2 then the next socket starts at 4).
 * MADT, MP table and the machine's CPUID emulation must all use this one mapping.
 */
public record CpuTopology(int sockets, int cores, int threads) {

    public CpuTopology {
        if (sockets < 1 || cores < 1 || threads < 1) {
            throw new IllegalArgumentException("sockets, cores and threads must be >= 1");
        }
    }

    /** One socket, one core, one thread per vCPU: bhyve's {@code -c n} ... is n sockets. */
    public static CpuTopology ofSockets(int vcpus) {
        return new CpuTopology(vcpus, 1, 1);
    }

    public int vcpus() {
        return sockets * cores * threads;
    }

    public int threadBits() {
        return bitsFor(threads);
    }

    public int coreBits() {
        return bitsFor(cores);
    }

    /** ceil(log2(n)), 0 for n == 1. */
    static int bitsFor(int n) {
        return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
    }

    public int socketOf(int vcpu) {
        return vcpu / (cores * threads);
    }

    public int coreOf(int vcpu) {
        return (vcpu / threads) % cores;
    }

    public int threadOf(int vcpu) {
        return vcpu % threads;
    }

    public int apicId(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpus()) {
            throw new IndexOutOfBoundsException("vcpu " + vcpu + " of " + vcpus());
        }
        return socketOf(vcpu) << (coreBits() + threadBits())
                | coreOf(vcpu) << threadBits()
                | threadOf(vcpu);
    }

    public int maxApicId() {
        return apicId(vcpus() - 1);
    }

    /** The highest APIC id an 8-bit field holds: 0xFF is the xAPIC broadcast id. */
    public static final int MAX_XAPIC_ID = 0xFE;

    /**
     * The I/O APIC id tables announce: the vCPU count as bhyve does, unless that collides
     * with a local APIC id (gapped topologies), in which case the first id above them all.
     * When that does not fit in the I/O APIC's 8-bit id (255 vCPUs and more), 0, as QEMU
     * announces it: with x2APIC ids the I/O APIC's id no longer shares a bus with the CPUs'.
     */
    public int ioApicId() {
        int id = bhyveIoApicId();
        return id <= MAX_XAPIC_ID ? id : 0;
    }

    private int bhyveIoApicId() {
        int id = vcpus();
        for (int i = 0; i < vcpus(); i++) {
            if (apicId(i) == id) {
                return maxApicId() + 1;
            }
        }
        return id;
    }

    /**
     * Whether every local APIC id and bhyve's I/O APIC id fit in the 8-bit fields of the
     * xAPIC era (the MP table's processor and I/O APIC entries, the MADT's type 0): not so from
     * 255 vCPUs on, or earlier with gapped topologies.
     */
    public boolean xapicIds() {
        return maxApicId() <= MAX_XAPIC_ID && bhyveIoApicId() <= MAX_XAPIC_ID;
    }
}
