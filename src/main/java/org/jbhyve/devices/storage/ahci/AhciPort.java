package org.jbhyve.devices.storage.ahci;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * One AHCI port (AHCI 1.3, 3.3): its registers at ABAR + 0x100 + 0x80 * port, its command list
 * and received-FIS area in guest RAM, and the SATA device behind it (or none).
 *
 * <pre>
 * 0x00 CLB/0x04 CLBU  command list base (1 KiB aligned)   0x08 FB/0x0C FBU  FIS area (256-byte aligned)
 * 0x10 IS   interrupt status, write 1 to clear             0x14 IE  interrupt enable
 * 0x18 CMD  0 ST start  1 SUD  2 POD  3 CLO  4 FRE  12:8 CCS  14 FR  15 CR  16 CPS  24 ATAPI  31:28 ICC
 * 0x20 TFD  status (7:0) and error (15:8)                  0x24 SIG device signature
 * 0x28 SSTS 3:0 DET (3 = device and phy up)  7:4 SPD  11:8 IPM    0x2C SCTL (DET = 1: COMRESET)
 * 0x30 SERR write 1 to clear   0x34 SACT NCQ tags outstanding   0x38 CI commands issued
 * </pre>
 *
 * <p>Command processing follows bhyve's pci_ahci.c: while ST is set, slots in CI that are not
 * already in flight are taken in rotation from CCS, unless TFD shows BSY or DRQ or an error is
 * waiting to be cleared (ST going to 0 clears it). A non-queued command keeps BSY until it
 * completes with a D2H FIS (interrupt bit set, PxIS.DHRS); an NCQ command is accepted at once
 * (D2H without interrupt, BSY and its CI bit cleared) and completes with a Set Device Bits FIS
 * that clears its SACT bit (PxIS.SDBS). Any ERR status sets PxIS.TFES and stops the list until
 * the guest clears ST. With ST cleared, CR drops once nothing is in flight, which is when CI and
 * SACT are cleared. A Set Device Bits interrupt already pending in PxIS is not raised again, so
 * completions that arrive before the guest acknowledges share one interrupt.
 *
 * <p>All methods run under the controller's lock; completions from backend workers take it first.
 * While the controller is quiesced for a snapshot no slot is issued; slots already issued
 * complete as usual.
 */
final class AhciPort {
    static final int CLB = 0x00, CLBU = 0x04, FB = 0x08, FBU = 0x0C, IS = 0x10, IE = 0x14, CMD = 0x18;
    static final int TFD = 0x20, SIG = 0x24, SSTS = 0x28, SCTL = 0x2C, SERR = 0x30, SACT = 0x34, CI = 0x38;
    static final int SNTF = 0x3C, FBS = 0x40;
    static final int IS_DHRS = 1, IS_PSS = 1 << 1, IS_SDBS = 1 << 3, IS_HBFS = 1 << 29, IS_TFES = 1 << 30;
    static final int IE_WRITABLE = 0xFDC000FF;
    static final int CMD_ST = 1, CMD_SUD = 1 << 1, CMD_POD = 1 << 2, CMD_CLO = 1 << 3, CMD_FRE = 1 << 4;
    static final int CMD_CCS_MASK = 0x1F00, CMD_FR = 1 << 14, CMD_CR = 1 << 15, CMD_CPS = 1 << 16;
    static final int CMD_ICC_MASK = 0xF0000000;
    static final int CMD_WRITABLE = CMD_ST | CMD_SUD | CMD_POD | CMD_CLO | CMD_FRE | 1 << 23 /* APSTE */
            | 1 << 24 /* ATAPI */ | 1 << 25 /* DLAE */ | 1 << 26 /* ALPE */ | 1 << 27 /* ASP */ | CMD_ICC_MASK;
    static final int SIG_ATA = 0x00000101, SIG_ATAPI = 0xEB140101, SIG_NONE = 0xFFFFFFFF;
    static final int SSTS_PRESENT = 0x3 | 0x30 /* Gen3, 6 Gb/s */ | 0x100 /* active */;
    static final int SPD_MASK = 0xF0;

    private final AhciController hba;
    private final GuestMemory memory;
    private final int index;
    private final SataDevice device;
    private final byte[] ncqErrorLog = new byte[20];
    private int clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
    private int pending;         // slots handed to the device and not completed
    private int executing;       // commands handed out and not completed, also those a reset orphaned
    private int ccs;
    private boolean waitForClear;
    private boolean srstAsserted;
    private boolean issuing;
    private int generation;

    AhciPort(AhciController hba, GuestMemory memory, int index, SataDevice device) {
        this.hba = hba;
        this.memory = memory;
        this.index = index;
        this.device = device;
    }

    int index() {
        return index;
    }

    SataDevice device() {
        return device;
    }

    /** The controller lock, which guards every port and device field. */
    Object lock() {
        return hba;
    }

    /** Logs a guest mistake on this port (rate-limited by the controller). */
    void guestError(String message) {
        hba.guestError("port " + index + ": " + message);
    }

    /** Whether PxIS has an enabled bit set (the port's bit in the HBA's IS). */
    boolean interruptPending() {
        return (is & ie) != 0;
    }

    /** The NCQ Command Error log (page 0x10): the last failed command's tag, status, error, FIS. */
    byte[] ncqErrorLog() {
        return ncqErrorLog.clone();
    }

    // ------------------------------------------------------------ resets

    /** HBA reset (GHC.HR): registers to their reset values, anything in flight forgotten. */
    void hbaReset() {
        ie = 0;
        is = 0;
        cmd = CMD_SUD | CMD_POD | (device != null ? CMD_CPS : 0);
        sctl = 0;
        clearCommands();
        resetDevice();
    }

    /** COMRESET (SCTL.DET = 1 while stopped): the link comes back up and the device resets. */
    private void comReset() {
        clearCommands();
        cmd &= ~(CMD_CR | CMD_CCS_MASK);
        resetDevice();
    }

    private void clearCommands() {
        generation++;
        ci = 0;
        sact = 0;
        pending = 0;
        ccs = 0;
        waitForClear = false;
        srstAsserted = false;
    }

    /** The device's reset: signature in PxSIG, a signature FIS, link state (bhyve's ahci_port_reset). */
    private void resetDevice() {
        serr = 0;
        sact = 0;
        if (device == null) {
            ssts = 0;
            sig = SIG_NONE;
            tfd = 0x7F;
            return;
        }
        device.reset();
        ssts = (SSTS_PRESENT & ~SPD_MASK) | ((sctl & SPD_MASK) != 0 ? sctl & SPD_MASK : SSTS_PRESENT & SPD_MASK);
        sig = device.atapi() ? SIG_ATAPI : SIG_ATA;
        tfd = 1 << 8 | Fis.DSC | Fis.DMA_READY | (device.atapi() ? 0 : Fis.DRDY);
        postFis(Fis.D2H_AT, Fis.signature(tfd & 0xFF, sig));
    }

    // ------------------------------------------------------------ registers

    int read(int offset) {
        return switch (offset) {
            case CLB -> clb;
            case CLBU -> clbu;
            case FB -> fb;
            case FBU -> fbu;
            case IS -> is;
            case IE -> ie;
            case CMD -> cmd;
            case TFD -> tfd;
            case SIG -> sig;
            case SSTS -> ssts;
            case SCTL -> sctl;
            case SERR -> serr;
            case SACT -> sact;
            case CI -> ci;
            default -> 0;
        };
    }

    void write(int offset, int value) {
        switch (offset) {
            case CLB -> clb = value & ~0x3FF;
            case CLBU -> clbu = value;
            case FB -> fb = value & ~0xFF;
            case FBU -> fbu = value;
            case IS -> {
                is &= ~value;
                hba.portInterrupt(this);
            }
            case IE -> {
                ie = value & IE_WRITABLE;
                hba.portInterrupt(this);
            }
            case CMD -> writeCommand(value);
            case SCTL -> {
                sctl = value;
                if ((cmd & CMD_ST) == 0 && (value & 0xF) == 1) {
                    comReset();
                }
            }
            case SERR -> serr &= ~value;
            case SACT -> sact |= value;
            case CI -> {
                ci |= value;
                processCommands();
            }
            default -> { } // TFD, SIG, SSTS are read-only; SNTF and FBS are not implemented
        }
    }

    private void writeCommand(int value) {
        cmd = (cmd & ~CMD_WRITABLE) | (value & CMD_WRITABLE);
        if ((value & CMD_ST) != 0) {
            cmd |= CMD_CR;
        } else {
            checkStopped();
        }
        cmd = (value & CMD_FRE) != 0 ? cmd | CMD_FR : cmd & ~CMD_FR;
        if ((value & CMD_CLO) != 0) {
            tfd &= ~(Fis.BSY | Fis.DRQ);
            cmd &= ~CMD_CLO;
        }
        cmd &= ~CMD_ICC_MASK;
        processCommands();
    }

    /** With ST clear and nothing in flight, the list is idle: CR, CCS, CI and SACT clear. */
    private void checkStopped() {
        if ((cmd & CMD_ST) == 0 && pending == 0) {
            ccs = 0;
            cmd &= ~(CMD_CR | CMD_CCS_MASK);
            ci = 0;
            sact = 0;
            waitForClear = false;
        }
    }

    // ------------------------------------------------------------ command list

    /** Issues the slots in CI that are not in flight, in rotation from CCS (bounded: 32 steps). */
    void processCommands() {
        if ((cmd & CMD_ST) == 0 || issuing || hba.quiesced()) {
            return;
        }
        issuing = true;
        try {
            for (int step = 0; step < 32 && (ci & ~pending) != 0; step++, ccs = (ccs + 1) & 31) {
                if ((tfd & (Fis.BSY | Fis.DRQ)) != 0 || waitForClear) {
                    break;
                }
                if ((ci & ~pending & (1 << ccs)) != 0) {
                    cmd = (cmd & ~CMD_CCS_MASK) | ccs << 8;
                    issue(ccs);
                }
            }
        } finally {
            issuing = false;
        }
    }

    private void issue(int slot) {
        long list = Integer.toUnsignedLong(clb) | (long) clbu << 32;
        AhciCommand c = AhciCommand.read(this, memory, slot, generation, list + (long) slot * AhciCommand.HEADER_SIZE);
        if (c == null) {
            guestError("slot " + slot + ": command header or table outside RAM");
            tfd = Fis.ABRT << 8 | Fis.FAILED;
            waitForClear = true;
            raise(IS_HBFS | IS_TFES);
            return;
        }
        pending |= 1 << slot;
        executing++;
        if (c.fisType() != Fis.REG_H2D) {
            guestError("slot " + slot + ": not a host-to-device register FIS: " + c.fisType());
            c.abort();
        } else if (!c.isCommand()) {
            deviceControl(c);
        } else if (device == null) {
            c.abort();
        } else {
            tfd |= Fis.BSY;
            device.execute(c);
        }
    }

    /** A device-control FIS: SRST set, then cleared, resets the device (software reset). */
    private void deviceControl(AhciCommand c) {
        if ((c.control() & Fis.CONTROL_SRST) != 0) {
            srstAsserted = true;
        } else if (srstAsserted) {
            srstAsserted = false;
            resetDevice();
        }
        pending &= ~(1 << c.slot());
        ci &= ~(1 << c.slot());
        executing--;
    }

    /** NCQ acceptance: a D2H FIS without interrupt clears BSY and the slot's CI bit. */
    void accept(AhciCommand c) {
        if (c.generation() != generation || c.accepted) {
            return;
        }
        c.accepted = true;
        tfd = Fis.GOOD;
        ci &= ~(1 << c.slot());
        postFis(Fis.D2H_AT, Fis.registerD2h(false, Fis.GOOD, 0, null));
    }

    /**
     * Completes a command: a Set Device Bits FIS for an accepted NCQ command, otherwise (after a
     * PIO Setup FIS for PIO data-in) a D2H FIS that echoes the command's registers. Completions
     * of a command issued before a reset are dropped.
     */
    void complete(AhciCommand c, int status, int error) {
        executing--;
        hba.notifyAll();               // a quiesce may be waiting for the last command
        if (c.generation() != generation) {
            return;
        }
        int bit = 1 << c.slot();
        pending &= ~bit;
        if (c.transferred >= 0) {
            memory.putInt(c.headerAddress() + 4, c.transferred);
        }
        boolean failed = (status & Fis.ERR) != 0;
        if (failed) {
            recordError(c, status, error);
        }
        int irq;
        if (c.accepted) {
            if (!failed) {
                sact &= ~bit;
            }
            tfd = error << 8 | (tfd & ~0x77 & 0xFF) | (status & 0x77);
            postFis(Fis.SDB_AT, Fis.setDeviceBits(status, error, failed ? 0 : bit));
            irq = IS_SDBS;
        } else {
            byte[] regs = c.registers();
            if (c.resultCount >= 0) {
                regs[8] = (byte) c.resultCount;
                regs[9] = (byte) (c.resultCount >>> 8);
            }
            if (c.pioIn && !failed) {
                postFis(Fis.PIO_SETUP_AT, Fis.pioSetupIn(status, Math.max(c.transferred, 0), regs));
            }
            if (!failed) {
                ci &= ~bit;
            }
            tfd = error << 8 | status;
            postFis(Fis.D2H_AT, Fis.registerD2h(true, status, error, regs));
            irq = IS_DHRS;
        }
        raise(failed ? irq | IS_TFES : irq);
        checkStopped();
        processCommands();
    }

    /** The NCQ error log entry and the stop until the guest clears ST (bhyve's waitforclear). */
    private void recordError(AhciCommand c, int status, int error) {
        java.util.Arrays.fill(ncqErrorLog, (byte) 0);
        ncqErrorLog[0] = (byte) (c.accepted ? c.slot() : 0x80);
        ncqErrorLog[2] = (byte) status;
        ncqErrorLog[3] = (byte) error;
        System.arraycopy(c.errorRegisters(), 0, ncqErrorLog, 4, 16);
        waitForClear = true;
    }

    private void raise(int bits) {
        is |= bits;
        hba.portInterrupt(this);
    }

    /** Stores a received FIS at {@code offset} of the FIS area, if FIS receive is on and the area is RAM. */
    private void postFis(int offset, byte[] fis) {
        if ((cmd & CMD_FRE) == 0) {
            return;
        }
        long at = (Integer.toUnsignedLong(fb) | (long) fbu << 32) + offset;
        if (!memory.contains(at, fis.length)) {
            guestError("received-FIS area 0x" + Long.toHexString(at - offset) + " is not RAM");
            return;
        }
        memory.write(at, fis);
    }

    // ------------------------------------------------------------ snapshot

    /** Whether a command is with the device (a quiesce waits until none is). */
    boolean executing() {
        return executing != 0;
    }

    /**
     * Writes the port, after a quiesce (nothing executing):
     * <pre>
     * bool drive present, then if present: bool ATAPI, i64 sectors, i32 sector size (the restore check)
     * i32 CLB CLBU FB FBU IS IE CMD TFD SIG SSTS SCTL SERR SACT CI
     * u8 CCS (next slot in rotation)  bool waiting for ST to clear after an error  bool SRST asserted
     * raw 20 bytes NCQ command error log   then the drive's state ({@link SataDevice#saveState})
     * </pre>
     * Slots in CI that were not issued stay there and are issued once the port runs again.
     */
    void saveState(StateWriter out) {
        if (executing != 0) {
            throw new IllegalStateException("AHCI port " + index + " saved with commands executing (not quiesced)");
        }
        out.bool(device != null);
        if (device != null) {
            out.bool(device.atapi()).i64(device.sectors()).i32(device.sectorSize());
        }
        for (int r : new int[] {clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci}) {
            out.i32(r);
        }
        out.u8(ccs).bool(waitForClear).bool(srstAsserted).raw(ncqErrorLog, 0, ncqErrorLog.length);
        if (device != null) {
            device.saveState(out);
        }
    }

    /**
     * Reads what {@link #saveState} wrote; {@code controller} names the controller in the one-line
     * error when the drive behind this port is not the one the snapshot had. Issues nothing: the
     * controller restarts the command lists once every port is back.
     */
    void restoreState(StateReader in, String controller) {
        boolean present = in.bool();
        String saved = "no drive";
        if (present) {
            boolean atapi = in.bool();
            long sectors = in.i64();
            int sectorSize = in.i32();
            saved = SataDevice.describe(atapi, sectors, sectorSize);
        }
        String own = device == null ? "no drive" : device.describe();
        if (!saved.equals(own)) {
            throw new SnapshotException(controller + ": port " + index + " has " + own + ", the snapshot " + saved);
        }
        int[] r = new int[14];
        for (int i = 0; i < r.length; i++) {
            r[i] = in.i32();
        }
        int slot = in.u8();
        if (slot >= 32) {
            throw in.invalid("port " + index + " command slot " + slot);
        }
        boolean waiting = in.bool();
        boolean srst = in.bool();
        byte[] log = in.raw(ncqErrorLog.length);
        if (device != null) {
            device.restoreState(in);
        }
        clearCommands();
        clb = r[0];
        clbu = r[1];
        fb = r[2];
        fbu = r[3];
        is = r[4];
        ie = r[5];
        cmd = r[6];
        tfd = r[7];
        sig = r[8];
        ssts = r[9];
        sctl = r[10];
        serr = r[11];
        sact = r[12];
        ci = r[13];
        ccs = slot;
        waitForClear = waiting;
        srstAsserted = srst;
        System.arraycopy(log, 0, ncqErrorLog, 0, log.length);
    }
}
