package org.jbhyve.devices.storage.nvme;

import org.jbhyve.backend.block.BlockIoException;
import org.jbhyve.memory.GuestMemory;

/**
 * The admin command set (NVMe 1.4, section 5) as bhyve implements it, run on the thread that
 * rang the admin doorbell:
 *
 * <pre>
 * 00h Delete I/O SQ   cdw10 15:0 QID
 * 01h Create I/O SQ   PRP1 base; cdw10 15:0 QID, 31:16 size - 1; cdw11 bit 0 PC, 2:1 QPRIO, 31:16 CQID
 * 02h Get Log Page    cdw10 7:0 LID, 31:16 NUMDL; cdw11 15:0 NUMDU; cdw12/13 offset
 * 04h Delete I/O CQ   cdw10 15:0 QID
 * 05h Create I/O CQ   PRP1 base; cdw10 15:0 QID, 31:16 size - 1; cdw11 bit 0 PC, bit 1 IEN, 31:16 IV
 * 06h Identify        cdw10 7:0 CNS: 0 namespace, 1 controller, 2 active NSIDs, 3 NS descriptors,
 *                     13h controller list (empty)
 * 08h Abort           completes with dword 0 bit 0 set: nothing was aborted
 * 09h Set Features, 0Ah Get Features (see {@link NvmeFeatures})
 * 0Ch Asynchronous Event Request: held until an event (see {@link AsyncEvents})
 * 10h Firmware Commit: Invalid Firmware Slot (slot 1 is read-only)
 * 80h Format NVM      cdw10 3:0 LBAF (only 0), 7:5 PI (only 0), 11:9 SES (0 or 1): zeroes the namespace
 * 81h, 82h, 84h, 86h  (security, sanitize, LBA status) Invalid Field; anything else Invalid Opcode
 * </pre>
 * Queue creation checks what bhyve checks, in its order: physically contiguous, identifier in
 * 1..granted count and unused, page-aligned base, interrupt vector in range, size 2..MQES+1,
 * completion queue present, ring inside guest RAM.
 */
final class NvmeAdmin implements CommandPump.Handler {
    static final int DELETE_SQ = 0x00, CREATE_SQ = 0x01, GET_LOG_PAGE = 0x02, DELETE_CQ = 0x04, CREATE_CQ = 0x05;
    static final int IDENTIFY = 0x06, ABORT = 0x08, SET_FEATURES = 0x09, GET_FEATURES = 0x0A;
    static final int ASYNC_EVENT_REQUEST = 0x0C, FIRMWARE_COMMIT = 0x10, FORMAT_NVM = 0x80;

    /** What the admin commands see of the rest of the controller. */
    record Context(GuestMemory memory, NvmeQueues queues, NvmeFeatures features, NvmeLogPages logs,
                   AsyncEvents events, NvmeStorage storage, int maxEntries, int vectors,
                   byte[] identifyController, byte[] identifyNamespace, long eui64, long namespaceBytes) {}

    private final Context x;
    private final CommandPump pump;

    NvmeAdmin(Context context, CommandPump pump) {
        this.x = context;
        this.pump = pump;
    }

    @Override
    public void execute(Request r, NvmeCommand c) {
        if (c.psdt() != 0 || c.fuse() != 0) {
            pump.complete(r, NvmeStatus.INVALID_FIELD, 0);
            return;
        }
        switch (c.opcode()) {
            case DELETE_SQ -> pump.complete(r, deleteSq(c.cdw10() & 0xFFFF), 0);
            case CREATE_SQ -> pump.complete(r, createSq(c), 0);
            case DELETE_CQ -> pump.complete(r, deleteCq(c.cdw10() & 0xFFFF), 0);
            case CREATE_CQ -> pump.complete(r, createCq(c), 0);
            case GET_LOG_PAGE -> pump.complete(r, logPage(c), 0);
            case IDENTIFY -> pump.complete(r, identify(c), 0);
            case ABORT -> pump.complete(r, NvmeStatus.SUCCESS, 1);
            case SET_FEATURES -> setFeatures(r, c);
            case GET_FEATURES -> {
                NvmeFeatures.Result f = x.features().get(c.cdw10(), c.nsid());
                pump.complete(r, f.status(), f.cdw0());
            }
            case ASYNC_EVENT_REQUEST -> {
                if (!x.events().request(r)) {
                    pump.complete(r, NvmeStatus.ASYNC_EVENT_LIMIT_EXCEEDED, 0);
                }
            }
            case FIRMWARE_COMMIT -> pump.complete(r, NvmeStatus.INVALID_FIRMWARE_SLOT, 0);
            case FORMAT_NVM -> format(r, c);
            case 0x81, 0x82, 0x84, 0x86 -> pump.complete(r, NvmeStatus.INVALID_FIELD, 0);
            default -> pump.complete(r, NvmeStatus.INVALID_OPCODE, 0);
        }
    }

    private int createCq(NvmeCommand c) {
        int qid = c.cdw10() & 0xFFFF;
        int entries = (c.cdw10() >>> 16) + 1;
        int vector = c.cdw11() >>> 16;
        if ((c.cdw11() & 1) == 0) {
            return NvmeStatus.INVALID_FIELD; // only physically contiguous queues
        }
        if (qid == 0 || qid > x.features().completionQueues() || x.queues().cq(qid) != null) {
            return NvmeStatus.INVALID_QUEUE_IDENTIFIER;
        }
        if ((c.prp1() & (Prp.PAGE - 1)) != 0) {
            return NvmeStatus.INVALID_FIELD;
        }
        if (vector >= x.vectors()) {
            return NvmeStatus.INVALID_INTERRUPT_VECTOR;
        }
        if (entries < 2 || entries > x.maxEntries()) {
            return NvmeStatus.INVALID_QUEUE_SIZE;
        }
        long bytes = (long) entries * CompletionQueue.ENTRY;
        if (!x.memory().contains(c.prp1(), bytes)) {
            return NvmeStatus.INVALID_FIELD;
        }
        x.queues().add(new CompletionQueue(qid, c.prp1(), entries, (c.cdw11() & 2) != 0, vector,
                x.memory().slice(c.prp1(), bytes)));
        return NvmeStatus.SUCCESS;
    }

    private int createSq(NvmeCommand c) {
        int qid = c.cdw10() & 0xFFFF;
        int entries = (c.cdw10() >>> 16) + 1;
        int cqid = c.cdw11() >>> 16;
        if ((c.cdw11() & 1) == 0) {
            return NvmeStatus.INVALID_FIELD;
        }
        if (qid == 0 || qid > x.features().submissionQueues() || x.queues().sq(qid) != null) {
            return NvmeStatus.INVALID_QUEUE_IDENTIFIER;
        }
        if ((c.prp1() & (Prp.PAGE - 1)) != 0) {
            return NvmeStatus.INVALID_FIELD;
        }
        if (entries < 2 || entries > x.maxEntries()) {
            return NvmeStatus.INVALID_QUEUE_SIZE;
        }
        if (cqid == 0 || cqid > x.features().completionQueues()) {
            return NvmeStatus.INVALID_QUEUE_IDENTIFIER;
        }
        CompletionQueue cq = x.queues().cq(cqid);
        if (cq == null) {
            return NvmeStatus.COMPLETION_QUEUE_INVALID;
        }
        long bytes = (long) entries * NvmeCommand.SIZE;
        if (!x.memory().contains(c.prp1(), bytes)) {
            return NvmeStatus.INVALID_FIELD;
        }
        x.queues().add(new SubmissionQueue(qid, c.prp1(), entries, cq, x.memory().slice(c.prp1(), bytes)));
        return NvmeStatus.SUCCESS;
    }

    /** Commands already fetched from the queue still complete (to its completion queue). */
    private int deleteSq(int qid) {
        if (qid == 0 || qid >= x.queues().capacity() || x.queues().sq(qid) == null) {
            return NvmeStatus.INVALID_QUEUE_IDENTIFIER;
        }
        x.queues().removeSq(qid).kill();
        return NvmeStatus.SUCCESS;
    }

    private int deleteCq(int qid) {
        CompletionQueue cq = x.queues().cq(qid);
        if (qid == 0 || cq == null) {
            return NvmeStatus.INVALID_QUEUE_IDENTIFIER;
        }
        if (x.queues().cqInUse(qid) || !cq.idle()) {
            return NvmeStatus.INVALID_QUEUE_DELETION;
        }
        x.queues().removeCq(qid).kill();
        return NvmeStatus.SUCCESS;
    }

    private int identify(NvmeCommand c) {
        int nsid = c.nsid();
        byte[] data = switch (c.cdw10() & 0xFF) {
            case 0x00 -> nsid == 1 ? x.identifyNamespace() : null;
            case 0x01 -> x.identifyController();
            case 0x02 -> NvmeIdentify.activeNamespaces(nsid);
            case 0x03 -> nsid == 1 ? NvmeIdentify.descriptors(x.eui64()) : null;
            case 0x13 -> new byte[NvmeIdentify.SIZE];
            default -> new byte[0];
        };
        if (data == null) {
            return NvmeStatus.INVALID_NAMESPACE;
        }
        if (data.length == 0) {
            return NvmeStatus.INVALID_FIELD;
        }
        return Prp.copyToGuest(x.memory(), c.prp1(), c.prp2(), data, 0, data.length);
    }

    private int logPage(NvmeCommand c) {
        int lid = c.cdw10() & 0xFF;
        long dwords = ((c.cdw11() & 0xFFFFL) << 16 | (c.cdw10() >>> 16)) + 1;
        long requested = dwords * 4;
        long offset = Integer.toUnsignedLong(c.cdw12()) | (long) c.cdw13() << 32;
        if (requested > NvmeIo.MAX_TRANSFER || (offset & 3) != 0) {
            return NvmeStatus.INVALID_FIELD;
        }
        int size = NvmeLogPages.size(lid);
        if (size < 0) {
            return NvmeStatus.INVALID_LOG_PAGE;
        }
        if (offset < 0 || offset >= size) {
            return NvmeStatus.INVALID_FIELD;
        }
        int length = (int) Math.min(requested, size - offset);
        return Prp.copyToGuest(x.memory(), c.prp1(), c.prp2(), x.logs().page(lid), (int) offset, length);
    }

    private void setFeatures(Request r, NvmeCommand c) {
        NvmeFeatures.Result f = x.features().set(c.cdw10(), c.cdw11(), c.nsid());
        pump.complete(r, f.status(), f.cdw0());
        if (f.status() == NvmeStatus.SUCCESS) {
            if (f.warning() >= 0) {
                x.events().post(AsyncEvents.TYPE_SMART, f.warning());
            } else if ((c.cdw10() & 0xFF) == NvmeFeatures.ASYNC_EVENTS) {
                x.events().deliver();
            }
        }
    }

    /** Format NVM: bhyve's checks, then the namespace is zeroed on a worker. */
    private void format(Request r, NvmeCommand c) {
        int nsid = c.nsid();
        int cdw10 = c.cdw10();
        int status = nsid != 1 && nsid != 0xFFFFFFFF ? NvmeStatus.INVALID_NAMESPACE
                : ((cdw10 >>> 9) & 7) > 1 ? NvmeStatus.INVALID_FIELD
                : (cdw10 & 0xF) != 0 ? NvmeStatus.INVALID_FORMAT
                : ((cdw10 >>> 5) & 7) != 0 ? NvmeStatus.INVALID_FIELD
                : x.storage().readOnly() ? NvmeStatus.NAMESPACE_WRITE_PROTECTED
                : NvmeStatus.SUCCESS;
        if (status != NvmeStatus.SUCCESS) {
            pump.complete(r, status, 0);
            return;
        }
        pump.startAsync(r);
        x.storage().submit(() -> {
            int result = NvmeStatus.INTERNAL_ERROR;
            try {
                x.storage().writeZeroes(0, x.namespaceBytes());
                result = NvmeStatus.SUCCESS;
            } catch (BlockIoException e) {
                result = NvmeStatus.INTERNAL_ERROR;
            } finally {
                pump.finishAsync(r, result, 0);
            }
        });
    }
}
