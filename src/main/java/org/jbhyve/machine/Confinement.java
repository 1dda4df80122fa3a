package org.jbhyve.machine;

import java.io.PrintStream;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Seccomp;
import org.jbhyve.sys.SysException;

/**
 * What the VMM gives up once start-up is over. By then every host resource the VM uses is open
 * (/dev/kvm, guest RAM, disk images, the tap, sockets), so the system calls that only an
 * attacker in control of the process would want can go: {@link Seccomp} denies starting
 * programs, making processes, ptrace, mounts, module and kexec loading, bpf and the like.
 * Nothing the VMM does afterwards needs them: it starts no helper programs, and its threads
 * (vCPUs, device workers, the JVM's own) are clones with CLONE_THREAD, which stay allowed.
 *
 * <p>{@code security.seccomp} (default true) turns it off, {@code -o security.seccomp=false},
 * for debugging: a debugger that uses ptrace, a profiler that uses perf_event_open, a JVM
 * option that starts a program (-XX:OnError, -XX:AOTCacheOutput's second JVM) need what the
 * filter takes.
 * A kernel without seccomp filters (EINVAL, ENOSYS) gets one notice line and the VM runs
 * unconfined; any other failure stops the start.
 */
final class Confinement {
    /** The configuration key, a boolean. */
    static final String KEY = "security.seccomp";

    private Confinement() {}

    /** Installs the filter on this process unless {@code tree} turns it off. */
    static void afterStartUp(ConfigTree tree) {
        afterStartUp(tree, Seccomp::install, System.err);
    }

    /** {@link #afterStartUp(ConfigTree)} with the installing step and the notice stream given (tests). */
    static void afterStartUp(ConfigTree tree, Runnable install, PrintStream notices) {
        if (!tree.getBoolean(KEY, true)) {
            return;
        }
        try {
            install.run();
        } catch (SysException e) {
            if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOSYS) {
                throw new MachineException("cannot install the seccomp filter (" + e.getMessage()
                        + "); -o " + KEY + "=false runs without it");
            }
            notices.println("bhyve: this kernel has no seccomp filters (" + e.getMessage()
                    + "); the VM runs without one");
        }
    }
}
