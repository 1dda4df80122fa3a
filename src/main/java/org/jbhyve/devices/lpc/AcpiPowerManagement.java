package org.jbhyve.devices.lpc;

import java.util.function.LongSupplier;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The ACPI fixed hardware bhyve's FADT points at (bhyve's pm.c), as four port windows:
 *
 * <pre>
 * 0x400  PM1a_STS (16)  bit 0 TMR_STS, bit 8 PWRBTN_STS, bit 15 WAK_STS; write 1 to clear
 * 0x402  PM1a_EN  (16)  bit 0 TMR_EN, bit 8 PWRBTN_EN
 * 0x404  PM1a_CNT (16)  bit 0 SCI_EN, bits 12:10 SLP_TYP, bit 13 SLP_EN (write-only)
 * 0x408  PM_TMR   (32)  3.579545 MHz free-running counter, 32 bits (FADT TMR_VAL_EXT)
 * 0xB2   SMI_CMD  (8)   ACPI_ENABLE (0xA0) sets SCI_EN, ACPI_DISABLE (0xA1) clears it
 * </pre>
 * The SCI (IRQ 9) is a level: raised while SCI_EN is set and some status bit is enabled.
 * Writing SLP_EN with SLP_TYP 5 (the \_S5 value of bhyve's DSDT) powers the VM off.
 * {@link #pressPowerButton()} is what SIGTERM does (bhyve(8): SIGTERM = ACPI power button).
 *
 * <p>The PM timer counts from a base value at a clock origin: 0 at construction, and after a
 * restore the saved count at the time of the restore, so it goes on from where the snapshot
 * left it and never runs backwards (apart from its 32-bit wrap). Snapshot state (layout 1):
 * PM1_STS, PM1_EN and PM1_CNT (u16 each), then the PM timer's value (i32). The SCI level follows
 * from them; restore drives the line to it.
 */
public final class AcpiPowerManagement implements Snapshottable {
    public static final int PM1_EVT_PORT = 0x400;
    public static final int PM1_EVT_LENGTH = 4;
    public static final int PM1_CNT_PORT = 0x404;
    public static final int PM1_CNT_LENGTH = 2;
    public static final int PM_TMR_PORT = 0x408;
    public static final int PM_TMR_LENGTH = 4;
    public static final int SMI_CMD_PORT = 0xB2;
    public static final int ACPI_ENABLE = 0xA0;
    public static final int ACPI_DISABLE = 0xA1;
    public static final int SCI_IRQ = 9;
    public static final int S5 = 5;

    public static final int STS_TMR = 1, STS_PWRBTN = 1 << 8, STS_WAK = 1 << 15;
    public static final int CNT_SCI_EN = 1, CNT_SLP_EN = 1 << 13;
    private static final int CNT_SLP_TYP_SHIFT = 10;
    private static final int CNT_WRITABLE = 0x1C01 | 0x0006; // SCI_EN, BM_RLD, GBL_RLS, SLP_TYP
    private static final long TIMER_HZ = 3_579_545;

    /** Asks the VM to power off when the guest enters S5. */
    public interface SleepRequest {
        void enterSleepState(int slpTyp);
    }

    private final IrqLine sci;
    private final SleepRequest sleep;
    private final LongSupplier nanoTime;
    private long timerOrigin;
    private long timerBase;
    private int status;
    private int enable;
    private int control;

    public AcpiPowerManagement(IrqLine sci, SleepRequest sleep, LongSupplier nanoTime) {
        this.sci = sci;
        this.sleep = sleep;
        this.nanoTime = nanoTime;
        this.timerOrigin = nanoTime.getAsLong();
    }

    /** Sets PWRBTN_STS and raises the SCI if the guest enabled it. */
    public synchronized void pressPowerButton() {
        status |= STS_PWRBTN;
        updateSci();
    }

    /** Whether the guest has switched to ACPI mode (SCI_EN) and enabled the power button event. */
    public synchronized boolean powerButtonArmed() {
        return (control & CNT_SCI_EN) != 0 && (enable & STS_PWRBTN) != 0;
    }

    private void updateSci() {
        sci.set((control & CNT_SCI_EN) != 0 && (status & enable) != 0);
    }

    /**
     * The PM timer: its base plus the ticks since its origin, whole seconds and the remainder
     * apart so nothing overflows.
     */
    private synchronized long timer() {
        long elapsed = nanoTime.getAsLong() - timerOrigin;
        long ticks = elapsed / 1_000_000_000L * TIMER_HZ + elapsed % 1_000_000_000L * TIMER_HZ / 1_000_000_000L;
        return (timerBase + ticks) & 0xFFFFFFFFL;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u16(status).u16(enable).u16(control);
        out.i32((int) timer());
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int savedStatus = in.u16();
        int savedEnable = in.u16();
        int savedControl = in.u16();
        if ((savedControl & ~CNT_WRITABLE) != 0) {
            throw in.invalid(String.format("PM1_CNT 0x%04x has bits outside 0x%04x", savedControl, CNT_WRITABLE));
        }
        long savedTimer = Integer.toUnsignedLong(in.i32());
        status = savedStatus;
        enable = savedEnable;
        control = savedControl;
        timerOrigin = nanoTime.getAsLong();
        timerBase = savedTimer;
        updateSci();
    }

    public IoHandler eventBlock() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                synchronized (AcpiPowerManagement.this) {
                    long both = (status & 0xFFFFL) | (long) (enable & 0xFFFF) << 16;
                    return (both >>> (8 * offset)) & IoHandler.mask(size);
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                synchronized (AcpiPowerManagement.this) {
                    long v = value << (8 * offset);
                    long lanes = IoHandler.mask(size) << (8 * offset);
                    if ((lanes & 0xFFFF) != 0) {
                        status &= ~(int) (v & lanes & 0xFFFF); // write 1 to clear
                    }
                    if ((lanes & 0xFFFF0000L) != 0) {
                        int newEnable = (int) ((v & lanes) >>> 16);
                        int keep = (int) (~(lanes >>> 16) & 0xFFFF);
                        enable = (enable & keep) | newEnable;
                    }
                    updateSci();
                }
            }
        };
    }

    public IoHandler controlBlock() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                synchronized (AcpiPowerManagement.this) {
                    return (control >>> (8 * offset)) & IoHandler.mask(size);
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                int slpTyp;
                synchronized (AcpiPowerManagement.this) {
                    int v = (int) ((value & IoHandler.mask(size)) << (8 * offset));
                    int lanes = (int) (IoHandler.mask(size) << (8 * offset)) & 0xFFFF;
                    control = (control & ~(lanes & CNT_WRITABLE)) | (v & lanes & CNT_WRITABLE);
                    updateSci();
                    if ((v & CNT_SLP_EN) == 0) {
                        return;
                    }
                    slpTyp = (control >>> CNT_SLP_TYP_SHIFT) & 0x7;
                }
                sleep.enterSleepState(slpTyp);
            }
        };
    }

    public IoHandler timerBlock() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                return (timer() >>> (8 * offset)) & IoHandler.mask(size);
            }

            @Override
            public void write(long offset, int size, long value) {
                // read-only
            }
        };
    }

    public IoHandler smiCommand() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                synchronized (AcpiPowerManagement.this) {
                    if ((value & 0xFF) == ACPI_ENABLE) {
                        control |= CNT_SCI_EN;
                    } else if ((value & 0xFF) == ACPI_DISABLE) {
                        control &= ~CNT_SCI_EN;
                    }
                    updateSci();
                }
            }
        };
    }
}
