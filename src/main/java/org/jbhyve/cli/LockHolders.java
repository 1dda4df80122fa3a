package org.jbhyve.cli;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.jbhyve.backend.block.ImageLockedException;
import org.jbhyve.control.ControlException;
import org.jbhyve.control.Registry;
import org.jbhyve.machine.MachineException;

/**
 * Names the VM that holds a disk image's lock. The block backend finds the processes that hold
 * it (open file description locks record no owner; see {@code FileLocks}); the VM registry knows
 * which VM each running bhyve process is. {@code disk image /x: in use by another VM (locked by
 * pid 4242; ...)} becomes {@code ... in use by vm web1 (locked by pid 4242; ...)}.
 */
final class LockHolders {
    private LockHolders() {}

    /**
     * {@code e} with the lock's holders named when its cause is an {@link ImageLockedException}
     * and the registry knows them; {@code e} itself otherwise.
     */
    static MachineException name(MachineException e, Registry registry) {
        ImageLockedException locked = lockedCause(e);
        if (locked == null || locked.holders().isEmpty() || !e.getMessage().endsWith(locked.getMessage())) {
            return e;
        }
        Map<Long, String> names = runningVms(registry);
        if (locked.holders().stream().noneMatch(names::containsKey)) {
            return e;
        }
        String prefix = e.getMessage().substring(0, e.getMessage().length() - locked.getMessage().length());
        return new MachineException(prefix + locked.describe(names), e);
    }

    private static ImageLockedException lockedCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ImageLockedException l) {
                return l;
            }
        }
        return null;
    }

    /** Pid to name of every running VM the registry lists; empty when it cannot be read. */
    private static Map<Long, String> runningVms(Registry registry) {
        Map<Long, String> names = new HashMap<>();
        try {
            for (String name : registry.names()) {
                if (registry.inspect(name) instanceof Registry.Entry.Running r && r.pid() > 0) {
                    names.put(r.pid(), name);
                }
            }
        } catch (IOException | ControlException e) {
            // the message then names the pid only
        }
        return names;
    }
}
