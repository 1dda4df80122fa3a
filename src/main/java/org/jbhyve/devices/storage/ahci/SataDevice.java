package org.jbhyve.devices.storage.ahci;

import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * What sits behind an AHCI port: an ATA disk ({@link AtaDisk}) or an ATAPI CD/DVD drive
 * ({@link AtapiCd}) over a block backend. This class handles the commands both answer the same
 * way (bhyve's ahci_handle_cmd does not distinguish them either):
 *
 * <pre>
 * 0xEF SET FEATURES      features 0x02/0x82 write cache on/off, 0xAA/0x55 read look-ahead on/off,
 *                        0x03 transfer mode (count = mode), 0x10 enable SATA feature 0x05
 *                        (asynchronous notification): accepted; anything else aborts
 * 0xC6 SET MULTIPLE      count = sectors per DRQ block: 0 or a power of two up to 128
 * 0xE5 CHECK POWER MODE  count 0xFF: active or idle
 * 0xE0 0xE1 0xE2 0xE3 0xE6 STANDBY/IDLE (IMMEDIATE), SLEEP: accepted, nothing to do
 * </pre>
 * A model's own commands come first; unknown commands abort (ERR, ABRT). Commands run on the
 * vCPU thread that wrote PxCI, under the controller lock; transfers go to the backend's workers
 * and complete there.
 */
abstract sealed class SataDevice implements AutoCloseable permits AtaDisk, AtapiCd {
    static final int SET_FEATURES = 0xEF, SET_MULTIPLE = 0xC6, CHECK_POWER_MODE = 0xE5;
    static final int STANDBY_IMMEDIATE = 0xE0, IDLE_IMMEDIATE = 0xE1, STANDBY = 0xE2, IDLE = 0xE3, SLEEP = 0xE6;
    static final int IDENTIFY = 0xEC, IDENTIFY_PACKET = 0xA1, PACKET = 0xA0;
    static final int UDMA6 = 0x46;

    protected final BlockBackend backend;
    protected final AhciDrive drive;
    /** The transfer mode set by SET FEATURES (0x4n Ultra DMA n, 0x2n multiword DMA n). */
    protected int transferMode;
    /** Sectors per block for READ/WRITE MULTIPLE (SET MULTIPLE). */
    protected int multipleSectors;

    protected SataDevice(AhciDrive drive) {
        this.backend = drive.backend();
        this.drive = drive;
        this.transferMode = UDMA6;
        this.multipleSectors = 128;
    }

    /** Whether this is a packet (ATAPI) device: its signature and IDENTIFY differ. */
    abstract boolean atapi();

    /** The medium's size in {@link #sectorSize} units, as the guest sees it. */
    abstract long sectors();

    /** The bytes of one sector the guest addresses (2048 for a CD). */
    abstract int sectorSize();

    /** What a snapshot restore names when the drive differs: "a disk of 2048 512-byte sectors". */
    final String describe() {
        return describe(atapi(), sectors(), sectorSize());
    }

    static String describe(boolean atapi, long sectors, int sectorSize) {
        return (atapi ? "a CD of " : "a disk of ") + sectors + " " + sectorSize + "-byte sectors";
    }

    /**
     * The settings the guest changed: u8 transfer mode, u8 sectors per multiple block, then the
     * model's own ({@link #saveOwnState}).
     */
    final void saveState(StateWriter out) {
        out.u8(transferMode).u8(multipleSectors);
        saveOwnState(out);
    }

    /** Reads what {@link #saveState} wrote; a value SET MULTIPLE could not have set is corrupt. */
    final void restoreState(StateReader in) {
        int mode = in.u8();
        int multiple = in.u8();
        if (multiple > 128 || (multiple & (multiple - 1)) != 0) {
            throw in.invalid("sectors per multiple block is " + multiple);
        }
        restoreOwnState(in);
        transferMode = mode;
        multipleSectors = multiple;
    }

    /** The model's own guest-visible state (none for a disk). */
    void saveOwnState(StateWriter out) {}

    void restoreOwnState(StateReader in) {}

    /** Power-on or reset state (COMRESET, software reset, HBA reset). */
    void reset() {
        transferMode = UDMA6;
        multipleSectors = 128;
    }

    /** Runs one command; the command is completed now or later from a backend worker. */
    final void execute(AhciCommand c) {
        if (executeOwn(c)) {
            return;
        }
        switch (c.command()) {
            case SET_FEATURES -> setFeatures(c);
            case SET_MULTIPLE -> {
                int n = c.fisByte(12);
                if (n > 128 || (n & (n - 1)) != 0) {
                    c.abort();
                } else {
                    multipleSectors = n;
                    c.succeed();
                }
            }
            case CHECK_POWER_MODE -> {
                c.resultCount = 0xFF;
                c.succeed();
            }
            case STANDBY_IMMEDIATE, IDLE_IMMEDIATE, STANDBY, IDLE, SLEEP -> c.succeed();
            default -> c.abort();
        }
    }

    /** The model's own commands; returns false for a command it leaves to this class. */
    abstract boolean executeOwn(AhciCommand c);

    private void setFeatures(AhciCommand c) {
        int count = c.fisByte(12);
        switch (c.fisByte(3)) {
            case 0x10 -> { // enable a SATA feature: only asynchronous notification, as bhyve
                if (count == 0x05) {
                    c.succeed();
                } else {
                    c.abort();
                }
            }
            case 0x02, 0x82, 0xAA, 0x55 -> c.succeed(); // write cache, read look-ahead
            case 0x03 -> {
                int kind = count & 0xF8;
                if (kind == 0x20 || kind == 0x40) {  // multiword DMA or Ultra DMA mode (count & 7)
                    transferMode = count;
                }
                c.succeed();                          // PIO modes need nothing
            }
            default -> c.abort();
        }
    }

    /** Answers IDENTIFY-like commands: PIO data-in of 512 bytes. */
    final void pioDataIn(AhciCommand c, byte[] data) {
        if (c.prdtLength() == 0) {
            c.abort();
            return;
        }
        int n = c.copyOut(data, data.length);
        if (n < 0) {
            c.abort();
            return;
        }
        c.transferred = n;
        c.pioIn = true;
        c.succeed();
    }

    @Override
    public void close() {
        backend.close();
    }
}
