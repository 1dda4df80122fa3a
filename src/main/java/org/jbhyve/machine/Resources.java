package org.jbhyve.machine;

import java.util.ArrayList;
import java.util.List;

/**
 * Things a VM owns (KVM fds, guest RAM, devices, backends), closed in the reverse order of
 * acquisition. Closing is best effort: the VM is going away, so one failure must not keep the
 * rest (terminal modes, sockets, worker threads) from being released.
 */
final class Resources implements AutoCloseable {
    private final List<AutoCloseable> owned = new ArrayList<>();

    /** Takes ownership of {@code resource} and returns it. */
    <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                // best effort while tearing down
            }
        }
        owned.clear();
    }
}
