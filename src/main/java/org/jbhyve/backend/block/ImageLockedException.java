package org.jbhyve.backend.block;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A disk image another VM has locked (see {@link BlockBackend}): the processes found holding the
 * lock, so that whoever knows which VM a process runs (the VM registry) can name it.
 */
public final class ImageLockedException extends BlockBackendException {
    private final String path;
    private final List<Long> holders;

    public ImageLockedException(String path, List<Long> holders) {
        super(describe(path, holders, Map.of()));
        this.path = path;
        this.holders = List.copyOf(holders);
    }

    /** The pids of the processes holding the lock, as far as this process can see them (may be empty). */
    public List<Long> holders() {
        return holders;
    }

    /** The message with the VMs named: {@code names} maps holder pids to VM names. */
    public String describe(Map<Long, String> names) {
        return describe(path, holders, names);
    }

    private static String describe(String path, List<Long> holders, Map<Long, String> names) {
        List<String> named = holders.stream().filter(names::containsKey).map(names::get).distinct().toList();
        String who = named.isEmpty() ? "another VM" : "vm " + String.join(", ", named);
        String pids = holders.isEmpty() ? "" : " by pid " + holders.stream().map(String::valueOf)
                .collect(Collectors.joining(", "));
        return "disk image " + path + ": in use by " + who + " (locked" + pids + "; nolock shares it)";
    }
}
