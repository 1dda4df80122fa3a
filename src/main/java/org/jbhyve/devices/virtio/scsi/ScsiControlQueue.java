package org.jbhyve.devices.virtio.scsi;

import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * The control queue of virtio-scsi (virtio 1.2 5.6.6.2): task management functions and
 * asynchronous-notification queries.
 *
 * <pre>
 * TMF       readable: le32 type (0) | le32 subtype | u8 lun[8] | le64 id       writable: u8 response
 *   subtypes: 0 ABORT TASK (id = the command's tag), 1 ABORT TASK SET, 2 CLEAR ACA,
 *             3 CLEAR TASK SET, 4 I_T NEXUS RESET, 5 LOGICAL UNIT RESET, 6 QUERY TASK,
 *             7 QUERY TASK SET
 * AN query  readable: le32 type (1 query, 2 subscribe) | u8 lun[8] | le32 event_requested
 *           writable: le32 event_actual | u8 response
 * </pre>
 * Responses: 0 FUNCTION COMPLETE (also "OK"), 3 BAD_TARGET, 10 FUNCTION SUCCEEDED, 11 FUNCTION
 * REJECTED, 12 INCORRECT LUN. Aborts and resets answer FUNCTION COMPLETE once the commands they
 * name have completed ({@link TaskSet}); a LUN reset also puts the LUN's mode pages back to
 * their defaults. CLEAR ACA is rejected (no ACA: NACA is never accepted); QUERY TASK / TASK SET
 * answer SUCCEEDED when the task(s) are still in progress. No asynchronous event is supported, so
 * AN queries and subscriptions report event_actual 0. A chain of unknown type, or too short for
 * its structures, is returned with nothing written.
 */
final class ScsiControlQueue {
    static final int T_TMF = 0, T_AN_QUERY = 1, T_AN_SUBSCRIBE = 2;
    static final int ABORT_TASK = 0, ABORT_TASK_SET = 1, CLEAR_ACA = 2, CLEAR_TASK_SET = 3;
    static final int I_T_NEXUS_RESET = 4, LOGICAL_UNIT_RESET = 5, QUERY_TASK = 6, QUERY_TASK_SET = 7;
    private static final int TMF_SIZE = 24;
    private static final int AN_SIZE = 16;

    private final ScsiSession session;
    private final ScsiTarget target;
    private final TaskSet tasks;

    ScsiControlQueue(ScsiSession session, ScsiTarget target, TaskSet tasks) {
        this.session = session;
        this.target = target;
        this.tasks = tasks;
    }

    void serve() {
        session.drainRequests();
        Virtqueue q = session.transport().queue(VirtioScsi.CONTROL);
        UsedBatch batch = session.batch(VirtioScsi.CONTROL);
        batch.hold();
        try {
            for (int budget = q.size(); budget > 0 && !session.stopped(); budget--) {
                DescriptorChain c = q.pop();
                if (c == null) {
                    return;
                }
                try {
                    handle(c, batch);
                } catch (RuntimeException e) {
                    session.failed("control request", e);
                    batch.complete(c.head(), 0, null);
                }
            }
            if (!session.stopped()) {
                session.continueLater(this::serve);
            }
        } catch (VirtqueueException e) {
            session.transport().queueBroken(q, e);
        } finally {
            batch.release();
        }
    }

    private void handle(DescriptorChain c, UsedBatch batch) {
        ScsiData[] in = VirtioScsiRequest.split(c, 0, c.readableCount(), TMF_SIZE);
        ScsiData out = VirtioScsiRequest.split(c, c.readableCount(), c.count(), 0)[1];
        byte[] req = in[0].read(TMF_SIZE);
        int type = req.length >= 4 ? (int) le(req, 0, 4) : -1;
        if (type == T_TMF && req.length >= TMF_SIZE && out.size() >= 1) {
            tmf(c.head(), req, out, batch);
        } else if ((type == T_AN_QUERY || type == T_AN_SUBSCRIBE) && req.length >= AN_SIZE && out.size() >= 5) {
            boolean ours = addressesTarget(req, 4);
            out.copyFrom(new byte[] {0, 0, 0, 0, (byte) (ours ? VirtioScsi.S_OK : VirtioScsi.S_BAD_TARGET)}, 5);
            batch.complete(c.head(), 5, null);
        } else {
            batch.complete(c.head(), 0, null);
        }
    }

    private void tmf(int head, byte[] req, ScsiData out, UsedBatch batch) {
        int subtype = (int) le(req, 4, 4);
        long id = le(req, 16, 8);
        if (!addressesTarget(req, 8)) {
            reply(head, out, batch, VirtioScsi.S_BAD_TARGET);
            return;
        }
        int lun = ((req[10] & 0xFF) << 8 | (req[11] & 0xFF)) & 0x3FFF;
        boolean present = target.lun(lun) != null;
        switch (subtype) {
            case ABORT_TASK, ABORT_TASK_SET, CLEAR_TASK_SET, LOGICAL_UNIT_RESET -> {
                if (!present) {
                    reply(head, out, batch, VirtioScsi.S_INCORRECT_LUN);
                    return;
                }
                boolean oneTask = subtype == ABORT_TASK;
                tasks.whenIdle(lun, oneTask, id, () -> {
                    if (subtype == LOGICAL_UNIT_RESET) {
                        target.reset(lun);
                    }
                    reply(head, out, batch, VirtioScsi.S_FUNCTION_COMPLETE);
                });
            }
            case I_T_NEXUS_RESET -> tasks.whenIdle(TaskSet.ALL_LUNS, false, 0,
                    () -> reply(head, out, batch, VirtioScsi.S_FUNCTION_COMPLETE));
            case QUERY_TASK -> reply(head, out, batch, tasks.isRunning(lun, id)
                    ? VirtioScsi.S_FUNCTION_SUCCEEDED : VirtioScsi.S_FUNCTION_COMPLETE);
            case QUERY_TASK_SET -> reply(head, out, batch, tasks.isBusy(lun)
                    ? VirtioScsi.S_FUNCTION_SUCCEEDED : VirtioScsi.S_FUNCTION_COMPLETE);
            default -> reply(head, out, batch, VirtioScsi.S_FUNCTION_REJECTED); // CLEAR ACA and unknown
        }
    }

    private void reply(int head, ScsiData out, UsedBatch batch, int response) {
        out.copyFrom(new byte[] {(byte) response}, 1);
        batch.complete(head, 1, null);
    }

    /** The 8-byte LUN field at {@code at} names this device's target (byte 0 = 1, SAM addressing). */
    private static boolean addressesTarget(byte[] req, int at) {
        int b2 = req[at + 2] & 0xFF;
        return (req[at] & 0xFF) == 1 && (req[at + 1] & 0xFF) == VirtioScsi.TARGET && (b2 == 0 || (b2 & 0xC0) == 0x40);
    }

    private static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = v << 8 | (b[at + i] & 0xFF);
        }
        return v;
    }
}
