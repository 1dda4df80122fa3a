package org.jbhyve.devices.storage.ahci;

/**
 * Frame Information Structures (SATA 3.x, 10.5) as an AHCI HBA exchanges them with the guest,
 * and the ATA status and error bits they carry.
 *
 * <pre>
 * Register host-to-device (0x27), 20 bytes, the command FIS at the start of a command table:
 *   0 type  1 bit 7 C (command, else device control), 3:0 PM port  2 command  3 features 7:0
 *   4 LBA 7:0  5 LBA 15:8  6 LBA 23:16  7 device  8 LBA 31:24  9 LBA 39:32  10 LBA 47:40
 *   11 features 15:8  12 count 7:0  13 count 15:8  14 ICC  15 control (bit 2 SRST)
 *   16-19 auxiliary (SEND FPDMA QUEUED: bit 0 of byte 16 = TRIM)
 * Register device-to-host (0x34), 20 bytes, received at +0x40 of the FIS area:
 *   0 type  1 bit 6 I (interrupt)  2 status  3 error  4-10 LBA and device as above
 *   12 count 7:0  13 count 15:8
 * Set Device Bits (0xA1), 8 bytes, at +0x58: 0 type  1 bit 6 I  2 status (bits 6:4, 2:0)
 *   3 error  4-7 SActive bits completed (NCQ)
 * PIO Setup (0x5F), 20 bytes, at +0x20: 0 type  1 bit 5 D (device to host), bit 6 I  2 status
 *   3 error  4-13 as D2H  15 E_Status (status after the transfer)  16-17 transfer count
 * </pre>
 * The receive area is 256 bytes: DMA Setup at 0x00, PIO Setup at 0x20, D2H at 0x40, SDB at
 * 0x58, unknown FIS at 0x60.
 */
final class Fis {
    static final int REG_H2D = 0x27, REG_D2H = 0x34, SET_DEVICE_BITS = 0xA1, PIO_SETUP = 0x5F;
    static final int AREA_SIZE = 256, PIO_SETUP_AT = 0x20, D2H_AT = 0x40, SDB_AT = 0x58;
    static final int FLAG_INTERRUPT = 0x40, FLAG_DEVICE_TO_HOST = 0x20, FLAG_COMMAND = 0x80;
    static final int CONTROL_SRST = 0x04;

    /** ATA status register. */
    static final int ERR = 0x01, DRQ = 0x08, DSC = 0x10, DF = 0x20, DMA_READY = 0x20, DRDY = 0x40, BSY = 0x80;
    /** The status of a command that completed well. */
    static final int GOOD = DRDY | DSC;
    /** The status of a command that failed. */
    static final int FAILED = DRDY | ERR;
    /** ATA error register. */
    static final int ABRT = 0x04, IDNF = 0x10, UNC = 0x40;

    private Fis() {}

    /** A D2H Register FIS; {@code regs} supplies bytes 4-13 (LBA, device, count) and may be null. */
    static byte[] registerD2h(boolean interrupt, int status, int error, byte[] regs) {
        byte[] f = new byte[20];
        f[0] = (byte) REG_D2H;
        f[1] = (byte) (interrupt ? FLAG_INTERRUPT : 0);
        f[2] = (byte) status;
        f[3] = (byte) error;
        if (regs != null) {
            System.arraycopy(regs, 0, f, 4, 10);
        }
        return f;
    }

    /** A Set Device Bits FIS with the interrupt bit, reporting {@code completed} slots. */
    static byte[] setDeviceBits(int status, int error, int completed) {
        byte[] f = new byte[8];
        f[0] = (byte) SET_DEVICE_BITS;
        f[1] = (byte) FLAG_INTERRUPT;
        f[2] = (byte) (status & 0x77);
        f[3] = (byte) error;
        f[4] = (byte) completed;
        f[5] = (byte) (completed >>> 8);
        f[6] = (byte) (completed >>> 16);
        f[7] = (byte) (completed >>> 24);
        return f;
    }

    /**
     * A PIO Setup FIS for a data-in transfer of {@code bytes}, without the interrupt bit (the
     * D2H FIS that follows interrupts), with {@code endStatus} as E_Status.
     */
    static byte[] pioSetupIn(int endStatus, int bytes, byte[] regs) {
        byte[] f = new byte[20];
        f[0] = (byte) PIO_SETUP;
        f[1] = (byte) FLAG_DEVICE_TO_HOST;
        f[2] = (byte) (endStatus | DRQ);
        if (regs != null) {
            System.arraycopy(regs, 0, f, 4, 10);
        }
        f[15] = (byte) endStatus;
        f[16] = (byte) bytes;
        f[17] = (byte) (bytes >>> 8);
        return f;
    }

    /**
     * The D2H FIS a device sends after a reset: the signature in count/LBA (count 1, LBA low 1,
     * LBA mid/high 0x14/0xEB for ATAPI, 0 for ATA), diagnostic code 1 in the error register.
     */
    static byte[] signature(int status, int signature) {
        byte[] f = new byte[20];
        f[0] = (byte) REG_D2H;
        f[2] = (byte) status;
        f[3] = 1;
        f[4] = (byte) (signature >>> 8);      // LBA 7:0 (sector number)
        f[5] = (byte) (signature >>> 16);     // LBA 15:8 (cylinder low)
        f[6] = (byte) (signature >>> 24);     // LBA 23:16 (cylinder high)
        f[12] = (byte) signature;             // count
        return f;
    }
}
