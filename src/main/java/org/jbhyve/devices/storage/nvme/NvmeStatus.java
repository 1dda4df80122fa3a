package org.jbhyve.devices.storage.nvme;

/**
 * Completion status values (NVMe 1.4, section 4.6.1). The status field is the upper half of a
 * completion entry's dword 3:
 *
 * <pre>
 * bit 0      phase tag (written by the completion queue, not part of these values)
 * bits 8:1   status code (SC)
 * bits 11:9  status code type (SCT): 0 generic, 1 command specific, 2 media and data integrity
 * bit 14     more;  bit 15 do not retry (DNR)
 * </pre>
 * Here a status is held as {@code SCT << 8 | SC}, with {@link #DNR} or-ed in when set;
 * {@link #field} turns it into the 15 bits above the phase tag.
 */
final class NvmeStatus {
    static final int SUCCESS = 0x00;

    // Generic command status (SCT 0)
    static final int INVALID_OPCODE = 0x01;
    static final int INVALID_FIELD = 0x02;
    static final int DATA_TRANSFER_ERROR = 0x04;
    static final int INTERNAL_ERROR = 0x06;
    static final int INVALID_NAMESPACE = 0x0B;
    static final int COMMAND_SEQUENCE_ERROR = 0x0C;
    static final int NAMESPACE_WRITE_PROTECTED = 0x20;
    static final int LBA_OUT_OF_RANGE = 0x80;

    // Command specific status (SCT 1)
    static final int COMPLETION_QUEUE_INVALID = 0x100;
    static final int INVALID_QUEUE_IDENTIFIER = 0x101;
    static final int INVALID_QUEUE_SIZE = 0x102;
    static final int ASYNC_EVENT_LIMIT_EXCEEDED = 0x105;
    static final int INVALID_FIRMWARE_SLOT = 0x106;
    static final int INVALID_INTERRUPT_VECTOR = 0x108;
    static final int INVALID_LOG_PAGE = 0x109;
    static final int INVALID_FORMAT = 0x10A;
    static final int INVALID_QUEUE_DELETION = 0x10C;
    static final int FEATURE_NOT_SAVEABLE = 0x10D;
    static final int FEATURE_NOT_NAMESPACE_SPECIFIC = 0x10F;

    /** Do Not Retry: the same command would fail again. */
    static final int DNR = 0x4000;

    private NvmeStatus() {}

    /** Bits 15:1 of the completion's status field for {@code status} (the phase tag is bit 0). */
    static int field(int status) {
        int sc = status & 0xFF;
        int sct = (status >>> 8) & 0x7;
        return sc << 1 | sct << 9 | ((status & DNR) != 0 ? 1 << 15 : 0);
    }

    /** The inverse of {@link #field}: a status from a completion's 16-bit status field. */
    static int fromField(int field) {
        int status = (field >>> 1) & 0xFF | ((field >>> 9) & 0x7) << 8;
        return (field & 0x8000) != 0 ? status | DNR : status;
    }
}
