package org.jbhyve.backend.block;

import org.jbhyve.sys.Errno;
import org.jbhyve.sys.IoUring;
import org.jbhyve.sys.SysException;

/**
 * Creating a backend's ring, or saying why there is none. Setup flags are tried best first:
 * SINGLE_ISSUER|DEFER_TASKRUN (Linux 6.1: completion work runs only when the ring thread
 * waits), COOP_TASKRUN (5.19: no interrupting the ring thread for it), then none. A kernel that
 * does not know a flag answers EINVAL and gets the next set; any other error (ENOSYS: no
 * io_uring; EPERM: kernel.io_uring_disabled or a seccomp filter; ENOMEM: locked-memory limit)
 * ends the attempt. The ring must also never drop completions (FEAT_NODROP, 5.5), keep
 * submitted data stable (FEAT_SUBMIT_STABLE), and do every operation the engine issues
 * (IORING_REGISTER_PROBE, 5.6).
 */
final class RingSetup {
    private static final int[] ATTEMPTS = {
        IoUring.SETUP_SINGLE_ISSUER | IoUring.SETUP_DEFER_TASKRUN | IoUring.SETUP_SUBMIT_ALL,
        IoUring.SETUP_COOP_TASKRUN | IoUring.SETUP_SUBMIT_ALL,
        0,
    };
    private static final int[] NEEDED_OPS = {IoUring.OP_READ, IoUring.OP_WRITE, IoUring.OP_READV, IoUring.OP_WRITEV,
        IoUring.OP_FSYNC, IoUring.OP_FALLOCATE};

    /** io_uring cannot be used here; the message says why (for the log line). */
    static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    private RingSetup() {}

    /** A ring of at least {@code entries} SQEs, owned by the calling thread. */
    static IoUring open(int entries) throws Unavailable {
        IoUring r = null;
        SysException last = null;
        for (int flags : ATTEMPTS) {
            try {
                r = IoUring.setup(entries, flags);
                break;
            } catch (SysException e) {
                last = e;
                if (e.errno() != Errno.EINVAL) {
                    break;
                }
            }
        }
        if (r == null) {
            throw new Unavailable(last.getMessage());
        }
        int needed = IoUring.FEAT_NODROP | IoUring.FEAT_SUBMIT_STABLE;
        if ((r.features() & needed) != needed) {
            r.close();
            throw new Unavailable("io_uring too old (features 0x" + Integer.toHexString(r.features()) + ")");
        }
        for (int op : NEEDED_OPS) {
            if (!r.supports(op)) {
                r.close();
                throw new Unavailable("io_uring lacks operation " + op);
            }
        }
        return r;
    }
}
