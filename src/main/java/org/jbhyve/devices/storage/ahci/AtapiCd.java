package org.jbhyve.devices.storage.ahci;

import java.lang.foreign.MemorySegment;
import org.jbhyve.backend.block.BlockIoException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * An ATAPI CD/DVD-ROM drive (bhyve's {@code cd:} port, {@code ahci-cd}): 2048-byte sectors of a
 * read-only image, driven by SCSI/MMC command packets.
 *
 * <p>ATA commands: IDENTIFY PACKET DEVICE (0xA1) answers {@link AtaIdentify#cd}; IDENTIFY
 * DEVICE (0xEC) aborts, as a packet device must, which is how drivers (SeaBIOS among them) tell
 * it from a disk; PACKET (0xA0) carries a 12-byte CDB in the command table's ACMD field.
 *
 * <pre>
 * 0x00 TEST UNIT READY          0x03 REQUEST SENSE (fixed format, then cleared)   0x12 INQUIRY
 * 0x1B START STOP UNIT          0x1E PREVENT ALLOW MEDIUM REMOVAL                 0x25 READ CAPACITY
 * 0x28 READ(10)  0xA8 READ(12)  0x43 READ TOC/PMA/ATIP formats 0 (TOC) and 1 (session info)
 * 0x46 GET CONFIGURATION        0x4A GET EVENT STATUS NOTIFICATION (polled; media class)
 * 0x5A MODE SENSE(10): pages 0x01, 0x2A, 0x3F             0xA0 REPORT LUNS
 * </pre>
 * A command that fails ends with CHECK CONDITION: status ERR, the sense key in error bits 7:4,
 * and sense data for REQUEST SENSE. Writes get DATA PROTECT / WRITE PROTECTED (27h); unknown
 * operation codes ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE (20h); bad fields ILLEGAL
 * REQUEST / INVALID FIELD IN CDB (24h); reads past the end LOGICAL BLOCK ADDRESS OUT OF RANGE
 * (21h); a PRDT outside RAM ABORTED COMMAND. The D2H FIS of a packet command carries the
 * interrupt reason (I/O and C/D set) in its count field.
 */
final class AtapiCd extends SataDevice {
    static final int TEST_UNIT_READY = 0x00, REQUEST_SENSE = 0x03, INQUIRY = 0x12, START_STOP = 0x1B;
    static final int PREVENT_ALLOW = 0x1E, READ_CAPACITY = 0x25, READ_10 = 0x28, READ_12 = 0xA8, READ_TOC = 0x43;
    static final int GET_CONFIGURATION = 0x46, GET_EVENT_STATUS = 0x4A, MODE_SENSE_10 = 0x5A, REPORT_LUNS = 0xA0;
    static final int NO_SENSE = 0, NOT_READY = 2, MEDIUM_ERROR = 3, ILLEGAL_REQUEST = 5, DATA_PROTECT = 7;
    static final int ABORTED_COMMAND = 0x0B;
    static final int INVALID_OPCODE = 0x20, LBA_OUT_OF_RANGE = 0x21, INVALID_FIELD = 0x24, WRITE_PROTECTED = 0x27;
    static final int SAVING_NOT_SUPPORTED = 0x39, REMOVAL_PREVENTED = 0x53, UNRECOVERED_READ = 0x11;
    private static final int REASON_IN_COMMAND = 0x03;   // interrupt reason: I/O | C/D
    private static final int MEDIA_NO_CHANGE = 0, MEDIA_NEW = 2;

    private final long sectors;
    private int senseKey, asc, ascq;
    private boolean locked;
    private boolean newMediaEvent;

    AtapiCd(AhciDrive drive) {
        super(drive);
        this.sectors = backend.size() / AtapiPages.SECTOR;
    }

    @Override
    boolean atapi() {
        return true;
    }

    @Override
    long sectors() {
        return sectors;
    }

    @Override
    int sectorSize() {
        return AtapiPages.SECTOR;
    }

    /** u8 sense key, u8 ASC, u8 ASCQ (what REQUEST SENSE returns next), bool medium locked, bool new-media event unreported. */
    @Override
    void saveOwnState(StateWriter out) {
        out.u8(senseKey).u8(asc).u8(ascq).bool(locked).bool(newMediaEvent);
    }

    @Override
    void restoreOwnState(StateReader in) {
        int key = in.u8();
        if (key > 0xF) {
            throw in.invalid("sense key is " + key);
        }
        int code = in.u8();
        int qualifier = in.u8();
        boolean lock = in.bool();
        boolean event = in.bool();
        senseKey = key;
        asc = code;
        ascq = qualifier;
        locked = lock;
        newMediaEvent = event;
    }

    @Override
    void reset() {
        super.reset();
        senseKey = NO_SENSE;
        asc = 0;
        ascq = 0;
        locked = false;
        newMediaEvent = true;
    }

    @Override
    boolean executeOwn(AhciCommand c) {
        switch (c.command()) {
            case IDENTIFY_PACKET -> pioDataIn(c, AtaIdentify.cd(drive, transferMode, c.port().read(AhciPort.SSTS)));
            case IDENTIFY -> c.abort();
            case PACKET -> packet(c);
            case AtaDisk.READ, AtaDisk.READ_EXT, AtaDisk.READ_DMA, AtaDisk.READ_DMA_EXT, AtaDisk.READ_FPDMA,
                 AtaDisk.WRITE, AtaDisk.WRITE_EXT, AtaDisk.WRITE_DMA, AtaDisk.WRITE_DMA_EXT, AtaDisk.WRITE_FPDMA,
                 AtaDisk.FLUSH, AtaDisk.FLUSH_EXT, AtaDisk.DSM, AtaDisk.READ_LOG_EXT, AtaDisk.READ_LOG_DMA_EXT ->
                    c.abort();
            default -> {
                return false;
            }
        }
        return true;
    }

    private void packet(AhciCommand c) {
        int op = c.cdbByte(0);
        switch (op) {
            case TEST_UNIT_READY, PREVENT_ALLOW -> {
                if (op == PREVENT_ALLOW) {
                    locked = (c.cdbByte(4) & 1) != 0;
                }
                good(c);
            }
            case REQUEST_SENSE -> {
                byte[] sense = AtapiPages.sense(senseKey, asc, ascq);
                respond(c, sense, c.cdbByte(4));
            }
            case INQUIRY -> inquiry(c);
            case START_STOP -> {
                boolean eject = (c.cdbByte(4) & 3) == 2;
                if (eject) {       // the image cannot leave: the tray stays shut, as bhyve's
                    checkCondition(c, ILLEGAL_REQUEST, REMOVAL_PREVENTED, locked ? 2 : 0);
                } else {
                    good(c);
                }
            }
            case READ_CAPACITY -> respond(c, AtapiPages.capacity(sectors), 8);
            case READ_10, READ_12 -> read(c, op);
            case READ_TOC -> readToc(c);
            case GET_CONFIGURATION -> {
                byte[] data = AtapiPages.configuration(sectors, c.cdbByte(1) & 3, c.cdbByte(2) << 8 | c.cdbByte(3));
                if (data == null) {
                    checkCondition(c, ILLEGAL_REQUEST, INVALID_FIELD, 0);
                } else {
                    respond(c, data, c.cdbByte(7) << 8 | c.cdbByte(8));
                }
            }
            case GET_EVENT_STATUS -> eventStatus(c);
            case MODE_SENSE_10 -> modeSense(c);
            case REPORT_LUNS -> respond(c, AtapiPages.reportLuns(),
                    (int) Math.min(Integer.MAX_VALUE, be32(c, 6)));
            case 0x0A, 0x2A, 0xAA, 0x8A, 0x2E, 0x04, 0x53, 0x5B, 0xA1 ->   // WRITE(6/10/12/16), WRITE AND
                    checkCondition(c, DATA_PROTECT, WRITE_PROTECTED, 0);    // VERIFY, FORMAT, RESERVE/CLOSE TRACK, BLANK
            default -> checkCondition(c, ILLEGAL_REQUEST, INVALID_OPCODE, 0);
        }
    }

    private static long be32(AhciCommand c, int at) {
        return (long) c.cdbByte(at) << 24 | c.cdbByte(at + 1) << 16 | c.cdbByte(at + 2) << 8 | c.cdbByte(at + 3);
    }

    private void inquiry(AhciCommand c) {
        int length = c.cdbByte(3) << 8 | c.cdbByte(4);
        if ((c.cdbByte(1) & 1) == 0) {
            respond(c, AtapiPages.inquiry(), length);
        } else if (c.cdbByte(2) == 0) {
            respond(c, AtapiPages.inquirySupportedPages(), length);
        } else {
            checkCondition(c, ILLEGAL_REQUEST, INVALID_FIELD, 0);
        }
    }

    private void readToc(AhciCommand c) {
        boolean msf = (c.cdbByte(1) & 2) != 0;
        int format = c.cdbByte(2) & 0xF;
        if (format == 0) {
            format = c.cdbByte(9) >>> 6;        // the older place for the format (SFF-8020)
        }
        int length = c.cdbByte(7) << 8 | c.cdbByte(8);
        byte[] data = switch (format) {
            case 0 -> AtapiPages.toc(sectors, c.cdbByte(6), msf);
            case 1 -> AtapiPages.sessionInfo(msf);
            default -> null;
        };
        if (data == null) {
            checkCondition(c, ILLEGAL_REQUEST, INVALID_FIELD, 0);
        } else {
            respond(c, data, length);
        }
    }

    private void eventStatus(AhciCommand c) {
        if ((c.cdbByte(1) & 1) == 0) {           // asynchronous notification is not offered
            checkCondition(c, ILLEGAL_REQUEST, INVALID_FIELD, 0);
            return;
        }
        int request = c.cdbByte(4);
        byte[] data = AtapiPages.eventStatus(request, newMediaEvent ? MEDIA_NEW : MEDIA_NO_CHANGE);
        if ((request & 0x10) != 0) {
            newMediaEvent = false;               // reported once
        }
        respond(c, data, c.cdbByte(7) << 8 | c.cdbByte(8));
    }

    private void modeSense(AhciCommand c) {
        int pc = c.cdbByte(2) >>> 6;
        if (pc == 3) {
            checkCondition(c, ILLEGAL_REQUEST, SAVING_NOT_SUPPORTED, 0);
            return;
        }
        byte[] data = AtapiPages.modeSense(c.cdbByte(2) & 0x3F, pc, locked);
        if (data == null) {
            checkCondition(c, ILLEGAL_REQUEST, INVALID_FIELD, 0);
        } else {
            respond(c, data, c.cdbByte(7) << 8 | c.cdbByte(8));
        }
    }

    private void read(AhciCommand c, int op) {
        long lba = be32(c, 2);
        long count = op == READ_10 ? c.cdbByte(7) << 8 | c.cdbByte(8) : be32(c, 6);
        if (lba + count > sectors) {
            checkCondition(c, ILLEGAL_REQUEST, LBA_OUT_OF_RANGE, 0);
            return;
        }
        if (count == 0) {
            good(c);
            return;
        }
        long bytes = count * AtapiPages.SECTOR;
        MemorySegment[] buffers = c.buffers(bytes);
        if (buffers == null) {
            c.port().guestError("PRDT of " + c.prdtLength() + " entries does not cover " + bytes + " bytes in RAM");
            checkCondition(c, ABORTED_COMMAND, 0, 0);
            return;
        }
        backend.submit(() -> {
            boolean ok = true;
            try {
                backend.read(lba * AtapiPages.SECTOR, buffers, buffers.length);
            } catch (BlockIoException e) {
                ok = false;
            }
            synchronized (c.port().lock()) {
                if (ok) {
                    c.transferred = (int) Math.min(bytes, Integer.MAX_VALUE);
                    good(c);
                } else {
                    checkCondition(c, MEDIUM_ERROR, UNRECOVERED_READ, 0);
                }
            }
        });
    }

    /** Copies {@code data}, cut to {@code allocation} bytes, to the guest and completes. */
    private void respond(AhciCommand c, byte[] data, int allocation) {
        int n = c.copyOut(data, Math.min(data.length, allocation));
        if (n < 0) {
            checkCondition(c, ABORTED_COMMAND, 0, 0);
            return;
        }
        c.transferred = n;
        good(c);
    }

    private void good(AhciCommand c) {
        senseKey = NO_SENSE;
        asc = 0;
        ascq = 0;
        c.resultCount = REASON_IN_COMMAND;
        c.succeed();
    }

    private void checkCondition(AhciCommand c, int key, int code, int qualifier) {
        senseKey = key;
        asc = code;
        ascq = qualifier;
        c.resultCount = REASON_IN_COMMAND;
        c.complete(Fis.FAILED, key << 4);
    }
}
