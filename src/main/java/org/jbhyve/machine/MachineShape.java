package org.jbhyve.machine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.SnapshotImage;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The snapshot part "machine", saved first: the VM's name, its vCPU topology, its memory size,
 * and the names of every other part (vCPUs, KVM's chips, each device by slot or port name).
 * {@code bhyve -r} takes the name (when none is given), the topology and the memory size from it,
 * as bhyve does, and compares the part names with the machine the command line builds: a device
 * missing on either side is one line naming it.
 */
public record MachineShape(String name, int sockets, int cores, int threads, long memoryBytes, List<String> parts)
        implements Snapshottable {
    static final String PART = "machine";

    int vcpus() {
        return sockets * cores * threads;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        out.string(name).i32(sockets).i32(cores).i32(threads).i64(memoryBytes).i32(parts.size());
        parts.forEach(out::string);
    }

    @Override
    public void restoreState(StateReader in, int version) {
        throw new UnsupportedOperationException("read with MachineShape.read");
    }

    static MachineShape read(SnapshotImage image) {
        StateReader in = image.reader(PART);
        String name = in.string();
        int sockets = in.intIn(1, 1024, "sockets");
        int cores = in.intIn(1, 1024, "cores");
        int threads = in.intIn(1, 1024, "threads");
        long memory = in.i64();
        int count = in.intIn(0, 1 << 16, "the part count");
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            parts.add(in.string());
        }
        in.expectEnd();
        if (name == null || memory <= 0 || (long) sockets * cores * threads > 1024) {
            throw in.invalid("no name, memory or vCPUs");
        }
        return new MachineShape(name, sockets, cores, threads, memory, List.copyOf(parts));
    }

    /**
     * For {@code -r FILE}: opens the snapshot (a missing, truncated or foreign file fails here,
     * before anything is created) and puts its name, topology and memory size into the settings.
     * A VM name given on the command line must be the saved one.
     */
    public static void applyTo(ConfigTree tree) {
        Path file = Path.of(tree.get("restore").orElseThrow());
        MachineShape shape;
        try (SnapshotImage image = SnapshotImage.open(file)) {
            shape = read(image);
        }
        String given = tree.get("name").orElse(null);
        if (given != null && !given.equals(shape.name())) {
            throw new SnapshotException("-r " + file + ": the snapshot is of VM " + shape.name() + ", not " + given);
        }
        tree.set("name", shape.name());
        tree.set("cpus", Integer.toString(shape.vcpus()));
        tree.set("sockets", Integer.toString(shape.sockets()));
        tree.set("cores", Integer.toString(shape.cores()));
        tree.set("threads", Integer.toString(shape.threads()));
        tree.set("memory.size", Long.toString(shape.memoryBytes()));
    }

    /** One line naming the first difference between the saved parts and this machine's, or null. */
    static String difference(List<String> saved, List<String> built) {
        for (String s : saved) {
            if (!built.contains(s)) {
                return "the snapshot has " + s + ", the command line does not";
            }
        }
        for (String b : built) {
            if (!saved.contains(b)) {
                return "the command line has " + b + ", the snapshot does not";
            }
        }
        return null;
    }
}
