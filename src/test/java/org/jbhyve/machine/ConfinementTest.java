package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.SysException;
import org.junit.jupiter.api.Test;

/** When the VMM confines itself, and what a kernel without seccomp gets; the filter itself is never installed here. */
class ConfinementTest {
    private final ByteArrayOutputStream notices = new ByteArrayOutputStream();
    private final AtomicInteger installs = new AtomicInteger();

    private void confine(ConfigTree tree, int failWith) {
        Confinement.afterStartUp(tree, () -> {
            installs.incrementAndGet();
            if (failWith != 0) {
                throw new SysException("seccomp", failWith);
            }
        }, new PrintStream(notices, true, StandardCharsets.UTF_8));
    }

    private static ConfigTree tree(String... keyValues) {
        ConfigTree tree = new ConfigTree();
        for (int i = 0; i < keyValues.length; i += 2) {
            tree.set(keyValues[i], keyValues[i + 1]);
        }
        return tree;
    }

    @Test
    void onByDefaultAndOffWithTheKey() {
        confine(tree(), 0);
        assertEquals(1, installs.get());
        confine(tree("security.seccomp", "false"), 0);
        confine(tree("security.seccomp", "off"), 0);
        assertEquals(1, installs.get());
        confine(tree("security.seccomp", "true"), 0);
        assertEquals(2, installs.get());
        assertEquals("", notices.toString(StandardCharsets.UTF_8));
        assertThrows(ConfigException.class, () -> confine(tree("security.seccomp", "maybe"), 0));
    }

    @Test
    void aKernelWithoutSeccompIsOneNoticeLine() {
        confine(tree(), Errno.EINVAL);
        confine(tree(), Errno.ENOSYS);
        assertEquals(2, notices.toString(StandardCharsets.UTF_8).lines().count());
        assertEquals("bhyve: this kernel has no seccomp filters (seccomp: " + Errno.describe(Errno.ENOSYS)
                + "); the VM runs without one", notices.toString(StandardCharsets.UTF_8).lines().toList().get(1));
    }

    @Test
    void anyOtherFailureStopsTheStart() {
        MachineException e = assertThrows(MachineException.class, () -> confine(tree(), Errno.EFAULT));
        assertEquals("cannot install the seccomp filter (seccomp: " + Errno.describe(Errno.EFAULT)
                + "); -o security.seccomp=false runs without it", e.getMessage());
    }
}
