package org.jbhyve.config;

/**
 * The vCPU count and topology, computed from the {@code cpus}, {@code sockets},
 * {@code cores} and {@code threads} keys exactly as bhyve's
 * {@code calc_topology()} does.
 *
 * <p>Unset {@code cores} and {@code threads} are 1; an unset {@code sockets} is
 * the vCPU count when {@code cpus} is given (so {@code -c 4} is four sockets of
 * one core) and 1 otherwise. When {@code cpus} is given it must equal
 * {@code sockets * cores * threads}; when it is not, it is that product. So
 * {@code -c 4,cores=2} is inconsistent (4 sockets of 2 cores is 8), while
 * {@code -c 4,sockets=2,cores=2} and {@code -c cores=2,threads=2} are fine.
 *
 * <p>bhyve caps the count at 16 (vmm.ko's VM_MAXCPU); jbhyve accepts up to
 * {@link #MAX_CPUS} here, and the machine checks the count again against
 * KVM's {@code KVM_CAP_MAX_VCPUS} for the host at hand.
 */
public record Topology(int cpus, int sockets, int cores, int threads) {

    /** The most vCPUs the command line accepts; KVM's own limit is checked later. */
    public static final int MAX_CPUS = 1024;

    public Topology {
        if (cpus < 1 || sockets < 1 || cores < 1 || threads < 1
                || (long) sockets * cores * threads != cpus) {
            throw new IllegalArgumentException("inconsistent topology");
        }
    }

    /** One vCPU: bhyve's default. */
    public static Topology single() {
        return new Topology(1, 1, 1, 1);
    }

    /**
     * Reads and checks the topology keys of {@code tree}.
     *
     * @throws ConfigException on a malformed or out-of-range value, or a
     *     topology that does not multiply out to the vCPU count
     */
    public static Topology from(ConfigTree tree) {
        boolean explicit = tree.get("cpus").isPresent();
        int cpus = explicit ? value(tree, "cpus") : 1;
        int cores = tree.get("cores").isPresent() ? value(tree, "cores") : 1;
        int threads = tree.get("threads").isPresent() ? value(tree, "threads") : 1;
        int sockets = tree.get("sockets").isPresent() ? value(tree, "sockets") : cpus;
        long product = (long) sockets * cores * threads;
        if (explicit && product != cpus) {
            throw new ConfigException("Topology (" + sockets + " sockets, " + cores + " cores, "
                    + threads + " threads) does not match " + cpus + " vCPUs");
        }
        if (product > MAX_CPUS) {
            throw new ConfigException("Computed number of vCPUs too high: " + product
                    + " (at most " + MAX_CPUS + ")");
        }
        return new Topology((int) product, sockets, cores, threads);
    }

    private static int value(ConfigTree tree, String key) {
        return (int) ConfigNumbers.parseLong(key, tree.get(key).orElseThrow(), 1, MAX_CPUS);
    }
}
