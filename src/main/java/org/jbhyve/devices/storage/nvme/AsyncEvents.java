package org.jbhyve.devices.storage.nvme;

import java.util.ArrayDeque;
import java.util.function.IntSupplier;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * Asynchronous events (NVMe 1.4, section 5.2). The host leaves up to AERL+1 Asynchronous Event
 * Request commands outstanding; the controller completes one when something happens, with
 *
 * <pre>
 * dword 0: 2:0 event type (0 error, 1 SMART/health, 2 notice), 15:8 event information,
 *          23:16 the log page that tells more (1 error, 2 SMART, 4 changed namespaces)
 * </pre>
 * As bhyve does, one event per type is remembered while no request is outstanding (a second
 * event of a type already waiting is dropped), and events are delivered in type order. SMART
 * events are delivered only for the critical-warning bits enabled in the Asynchronous Event
 * Configuration feature, notices only for their enable bit (8 + information); error events are
 * always delivered. A controller reset forgets the requests and the events.
 */
final class AsyncEvents {
    static final int TYPE_ERROR = 0;
    static final int TYPE_SMART = 1;
    static final int TYPE_NOTICE = 2;
    static final int INVALID_DOORBELL = 0;
    static final int INVALID_DOORBELL_VALUE = 1;
    static final int NOTICE_NAMESPACE_CHANGED = 0;
    /** AERL in Identify Controller (zero-based): five requests may be outstanding. */
    static final int LIMIT_ZERO_BASED = 4;
    private static final int TYPES = 3;

    /** Completes a held request. */
    interface Completer {
        void complete(Request r, int status, int cdw0);
    }

    private final ArrayDeque<Request> requests = new ArrayDeque<>();
    private final boolean[] posted = new boolean[TYPES];
    private final int[] information = new int[TYPES];
    private final IntSupplier configuration;
    private Completer completer;

    /** {@code configuration} reads the Asynchronous Event Configuration feature (cdw11). */
    AsyncEvents(IntSupplier configuration) {
        this.configuration = configuration;
    }

    void completer(Completer completer) {
        this.completer = completer;
    }

    /** Holds an Asynchronous Event Request; false if AERL+1 are already outstanding. */
    boolean request(Request r) {
        synchronized (this) {
            if (requests.size() > LIMIT_ZERO_BASED) {
                return false;
            }
            requests.add(r);
        }
        deliver();
        return true;
    }

    /** Records an event of {@code type} and delivers it if a request is outstanding. */
    void post(int type, int info) {
        synchronized (this) {
            if (posted[type]) {
                return;
            }
            posted[type] = true;
            information[type] = info;
        }
        deliver();
    }

    /** Matches waiting events with outstanding requests (also after the configuration changes). */
    synchronized void deliver() {
        int mask = configuration.getAsInt();
        for (int type = 0; type < TYPES && !requests.isEmpty(); type++) {
            if (!posted[type] || !enabled(type, information[type], mask)) {
                continue;
            }
            Request r = requests.poll();
            int cdw0 = logPage(type) << 16 | (information[type] & 0xFF) << 8 | type;
            posted[type] = false;
            information[type] = 0;
            completer.complete(r, NvmeStatus.SUCCESS, cdw0);
        }
    }

    /** Outstanding requests (tests). */
    synchronized int outstanding() {
        return requests.size();
    }

    /** Controller reset: requests are dropped with their queues, events forgotten. */
    synchronized void reset() {
        requests.clear();
        java.util.Arrays.fill(posted, false);
        java.util.Arrays.fill(information, 0);
    }

    private static boolean enabled(int type, int info, int mask) {
        return switch (type) {
            case TYPE_SMART -> (mask & 0xFF & info) != 0;
            case TYPE_NOTICE -> (mask & 1 << (8 + info)) != 0;
            default -> true;
        };
    }

    private static int logPage(int type) {
        return switch (type) {
            case TYPE_ERROR -> NvmeLogPages.ERROR;
            case TYPE_SMART -> NvmeLogPages.HEALTH;
            default -> NvmeLogPages.CHANGED_NAMESPACES;
        };
    }

    /**
     * Snapshot: u8 number of outstanding requests, u16 command id of each (oldest first); then
     * for each event type, bool waiting and u8 its information.
     */
    synchronized void saveState(StateWriter out) {
        out.u8(requests.size());
        for (Request r : requests) {
            out.u16(r.cid);
        }
        for (int type = 0; type < TYPES; type++) {
            out.bool(posted[type]).u8(information[type]);
        }
    }

    /**
     * Reads {@link #saveState}'s state; the outstanding requests are held again on {@code admin}
     * (the restored admin submission queue), each with its completion slot reserved again.
     */
    synchronized void restoreState(StateReader in, SubmissionQueue admin) {
        int n = in.u8();
        if (n > LIMIT_ZERO_BASED + 1) {
            throw in.invalid(n + " asynchronous event requests outstanding");
        }
        if (n > 0 && admin == null) {
            throw in.invalid("asynchronous event requests without an admin queue");
        }
        int[] cids = new int[n];
        for (int i = 0; i < n; i++) {
            cids[i] = in.u16();
        }
        boolean[] waiting = new boolean[TYPES];
        int[] info = new int[TYPES];
        for (int type = 0; type < TYPES; type++) {
            waiting[type] = in.bool();
            info[type] = in.u8();
        }
        reset();
        for (int cid : cids) {
            if (!admin.cq.tryReserve(null)) {
                throw in.invalid("the admin completion queue has no room for the event requests");
            }
            requests.add(new Request(admin, cid, NvmeAdmin.ASYNC_EVENT_REQUEST, false));
        }
        System.arraycopy(waiting, 0, posted, 0, TYPES);
        System.arraycopy(info, 0, information, 0, TYPES);
    }
}
