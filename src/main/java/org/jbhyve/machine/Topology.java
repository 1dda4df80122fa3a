package org.jbhyve.machine;

/**
 * The guest CPU topology from {@code -c cpus,sockets,cores,threads} and the APIC ids it implies,
 * laid out as x86 CPUID leaf 0xB describes them: the low {@link #threadBits()} bits of an APIC id
 * number the thread in its core, the next {@link #coreBits()} the core in its package, the rest
 * the package. vCPU n is thread (n % threads) of core (n / threads % cores) of socket
 * (n / (threads * cores)).
 */
public record Topology(int cpus, int sockets, int cores, int threads) {
    public Topology {
        if (cpus < 1 || sockets < 1 || cores < 1 || threads < 1 || (long) sockets * cores * threads != cpus) {
            throw new IllegalArgumentException("topology " + sockets + "x" + cores + "x" + threads
                    + " does not make " + cpus + " vCPUs");
        }
    }

    public static Topology single() {
        return new Topology(1, 1, 1, 1);
    }

    public int threadBits() {
        return bitsFor(threads);
    }

    public int coreBits() {
        return bitsFor(cores);
    }

    /** Logical processors per package. */
    public int perPackage() {
        return cores * threads;
    }

    public int apicId(int vcpu) {
        int thread = vcpu % threads;
        int core = vcpu / threads % cores;
        int socket = vcpu / (threads * cores);
        return socket << (coreBits() + threadBits()) | core << threadBits() | thread;
    }

    private static int bitsFor(int count) {
        return count <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(count - 1);
    }
}
