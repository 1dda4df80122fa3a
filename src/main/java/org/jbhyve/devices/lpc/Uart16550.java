package org.jbhyve.devices.lpc;

import org.jbhyve.backend.chr.CharBackend;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * An NS16550A UART, modelled on bhyve's uart_emul.c: eight byte-wide registers at offsets 0-7.
 *
 * <pre>
 * off  DLAB=0 read        DLAB=0 write        DLAB=1
 *  0   RBR receive buffer THR transmit hold   DLL divisor latch low
 *  1   IER int. enable    IER                 DLH divisor latch high
 *  2   IIR int. ident.    FCR FIFO control
 *  3   LCR line control (bit 7 = DLAB)
 *  4   MCR modem control: DTR 0x01, RTS 0x02, OUT1 0x04, OUT2 0x08, LOOP 0x10
 *  5   LSR line status:   DR 0x01, OE 0x02, THRE 0x20, TEMT 0x40 (writes ignored)
 *  6   MSR modem status:  dCTS 0x01, dDSR 0x02, TERI 0x04, dDCD 0x08, CTS 0x10, DSR 0x20,
 *                         RI 0x40, DCD 0x80; the delta bits clear on read (writes ignored)
 *  7   SCR scratch
 *
 * IER:  ERXRDY 0x01 (data), ETXRDY 0x02 (THR empty), ERLS 0x04 (line status), EMSC 0x08 (modem)
 * IIR:  bit 0 = 1 no interrupt pending; bits 3:1 the highest-priority cause:
 *       0x06 line status (overrun) > 0x04 data ready / 0x0C character timeout > 0x02 THR empty
 *       > 0x00 modem status; bits 7:6 = 11 when the FIFOs are enabled
 * FCR:  ENABLE 0x01, RCV_RST 0x02, XMT_RST 0x04, DMA 0x08, trigger level bits 7:6 (1/4/8/14)
 * </pre>
 *
 * Transmission is instantaneous: THR is always empty (THRE and TEMT always set) and each byte
 * goes straight to the backend. The THRE interrupt is therefore an event, as in bhyve: it
 * becomes pending when a byte is written or when ETXRDY goes from 0 to 1, and is cleared by a
 * read of IIR that reports it. Received bytes come from the backend into a FIFO of 16 bytes
 * (1 byte while the FIFO is disabled, i.e. 16450 mode); once it is full no more are taken: they
 * wait in the backend (which in turn stops reading the host) until the guest reads RBR.
 *
 * In loopback mode (MCR bit 4) THR feeds the receive FIFO (overrun sets OE), MSR mirrors MCR
 * (RTS to CTS, DTR to DSR, OUT1 to RI, OUT2 to DCD), nothing goes out, and host input waits in
 * the backend (bhyve discards it; keeping it loses nothing a user typed). Outside loopback DCD
 * and DSR read as asserted so a guest's tty open never waits for carrier.
 *
 * The interrupt line is level: raised while some enabled cause is pending, lowered otherwise.
 * As in bhyve, OUT2 does not gate it. All state is guarded by this object's monitor: vCPU
 * threads and the backend's input thread both enter.
 *
 * <p>Snapshot state (layout 1), in order: the registers LCR (with DLAB), IER, FCR, MCR, LSR (only
 * its OE bit is stored; the others are computed), MSR, SCR, DLL, DLH as one byte each; whether
 * the THRE interrupt is pending; the receive FIFO's bytes, oldest first, length-prefixed. The
 * FIFO's size follows from FCR (16 bytes when enabled, else 1) and the interrupt line's level from
 * the registers, so neither is stored: restore recomputes the level and drives the line to it.
 * The backend is a host resource reopened from the command line; input that reached the UART
 * before the restore, and input the backend still holds, follow the saved bytes in the restored
 * FIFO as far as there is room, as its readiness callback would.
 */
public final class Uart16550 implements IoHandler, AutoCloseable, Snapshottable {
    /** Width of the register window. */
    public static final int REGISTER_COUNT = 8;

    static final int REG_DATA = 0, REG_IER = 1, REG_IIR = 2, REG_FCR = 2, REG_LCR = 3;
    static final int REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7;

    static final int IER_ERXRDY = 0x01, IER_ETXRDY = 0x02, IER_ERLS = 0x04, IER_EMSC = 0x08;
    static final int IIR_NOPEND = 0x01, IIR_MLSC = 0x00, IIR_TXRDY = 0x02, IIR_RXRDY = 0x04;
    static final int IIR_RLS = 0x06, IIR_RXTOUT = 0x0C, IIR_FIFO_MASK = 0xC0;
    static final int FCR_ENABLE = 0x01, FCR_RCV_RST = 0x02, FCR_DMA = 0x08, FCR_RX_MASK = 0xC0;
    static final int LCR_DLAB = 0x80;
    static final int MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOPBACK = 0x10;
    static final int LSR_RXRDY = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
    static final int MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08;
    static final int MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
    static final int MSR_DELTA_MASK = 0x0F;

    static final int FIFO_SIZE = 16;
    private static final int DEFAULT_RCLK = 1_843_200;
    private static final int DEFAULT_BAUD = 9600;
    private static final int[] RX_TRIGGER = {1, 4, 8, 14};

    private final String name;
    private final IrqLine irq;
    private final CharBackend backend;

    private int ier, lcr, mcr, lsr, msr, fcr, scr, dll, dlh;
    private final byte[] rxFifo = new byte[FIFO_SIZE];
    private int rxHead, rxCount, rxSize;
    private boolean threPending;
    private boolean irqRaised;
    private final byte[] pullBuf = new byte[FIFO_SIZE];

    /**
     * @param name    for messages, e.g. {@code com1}
     * @param irq     the ISA IRQ or PCI INTx line
     * @param backend the host side, or null to discard output and never receive (bhyve's
     *                behaviour for a COM port without a backend); closed by {@link #close()}
     */
    public Uart16550(String name, IrqLine irq, CharBackend backend) {
        this.name = name;
        this.irq = irq;
        this.backend = backend;
        synchronized (this) {
            int divisor = DEFAULT_RCLK / DEFAULT_BAUD / 16;
            dll = divisor & 0xFF;
            dlh = divisor >> 8;
            msr = modemStatus(mcr);
            rxSize = 1; // no FIFO until the guest enables it
        }
        if (backend != null) {
            backend.onInputReady(this::inputReady);
        }
    }

    public String name() {
        return name;
    }

    @Override
    public synchronized long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            long reg = offset + i;
            int b = reg < REGISTER_COUNT ? readRegister((int) reg) : 0xFF;
            value |= (long) b << (8 * i);
        }
        updateIrq();
        return value;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            long reg = offset + i;
            if (reg < REGISTER_COUNT) {
                writeRegister((int) reg, (int) (value >>> (8 * i)) & 0xFF);
            }
        }
        updateIrq();
    }

    private int readRegister(int reg) {
        if ((lcr & LCR_DLAB) != 0 && (reg == REG_DATA || reg == REG_IER)) {
            return reg == REG_DATA ? dll : dlh;
        }
        switch (reg) {
            case REG_DATA: {
                if (rxCount == 0) {
                    return 0xFF;
                }
                int c = rxFifo[rxHead] & 0xFF;
                rxHead = (rxHead + 1) % rxSize;
                rxCount--;
                pullInput(); // room again: take what waited in the backend
                return c;
            }
            case REG_IER:
                return ier;
            case REG_IIR: {
                int reason = interruptReason();
                if (reason == IIR_TXRDY) {
                    threPending = false; // reading IIR acknowledges THRE
                }
                return ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO_MASK : 0) | reason;
            }
            case REG_LCR:
                return lcr;
            case REG_MCR:
                return mcr;
            case REG_LSR: {
                int value = lsr | LSR_TEMT | LSR_THRE | (rxCount > 0 ? LSR_RXRDY : 0);
                lsr &= ~LSR_OE; // overrun clears on read
                return value;
            }
            case REG_MSR: {
                int value = msr;
                msr &= ~MSR_DELTA_MASK;
                return value;
            }
            default:
                return scr;
        }
    }

    private void writeRegister(int reg, int value) {
        if ((lcr & LCR_DLAB) != 0 && (reg == REG_DATA || reg == REG_IER)) {
            if (reg == REG_DATA) {
                dll = value;
            } else {
                dlh = value;
            }
            return;
        }
        switch (reg) {
            case REG_DATA -> {
                if ((mcr & MCR_LOOPBACK) != 0) {
                    if (!rxPut((byte) value)) {
                        lsr |= LSR_OE;
                    }
                } else if (backend != null) {
                    backend.write(value);
                }
                threPending = true;
            }
            case REG_IER -> {
                // THR is always empty, so enabling its interrupt raises it at once.
                if ((ier & IER_ETXRDY) == 0 && (value & IER_ETXRDY) != 0) {
                    threPending = true;
                }
                ier = value & 0x0F;
            }
            case REG_FCR -> {
                // Switching between 16450 and FIFO mode empties the receive FIFO.
                if (((fcr ^ value) & FCR_ENABLE) != 0) {
                    rxReset((value & FCR_ENABLE) != 0 ? FIFO_SIZE : 1);
                }
                if ((value & FCR_ENABLE) == 0) {
                    fcr = 0;
                } else {
                    if ((value & FCR_RCV_RST) != 0) {
                        rxReset(FIFO_SIZE);
                    }
                    fcr = value & (FCR_ENABLE | FCR_DMA | FCR_RX_MASK);
                }
                pullInput();
            }
            case REG_LCR -> lcr = value;
            case REG_MCR -> {
                boolean wasLoopback = (mcr & MCR_LOOPBACK) != 0;
                mcr = value & 0x1F;
                int now = modemStatus(mcr);
                if (((now ^ msr) & MSR_CTS) != 0) {
                    msr |= MSR_DCTS;
                }
                if (((now ^ msr) & MSR_DSR) != 0) {
                    msr |= MSR_DDSR;
                }
                if (((now ^ msr) & MSR_DCD) != 0) {
                    msr |= MSR_DDCD;
                }
                if ((msr & MSR_RI) != 0 && (now & MSR_RI) == 0) {
                    msr |= MSR_TERI; // trailing edge of ring indicator
                }
                msr = (msr & MSR_DELTA_MASK) | now;
                if (wasLoopback && (mcr & MCR_LOOPBACK) == 0) {
                    pullInput();
                }
            }
            case REG_SCR -> scr = value;
            default -> {
                // LSR and MSR are read-only.
            }
        }
    }

    private static int modemStatus(int mcr) {
        if ((mcr & MCR_LOOPBACK) == 0) {
            return MSR_DCD | MSR_DSR;
        }
        int msr = 0;
        if ((mcr & MCR_RTS) != 0) {
            msr |= MSR_CTS;
        }
        if ((mcr & MCR_DTR) != 0) {
            msr |= MSR_DSR;
        }
        if ((mcr & MCR_OUT1) != 0) {
            msr |= MSR_RI;
        }
        if ((mcr & MCR_OUT2) != 0) {
            msr |= MSR_DCD;
        }
        return msr;
    }

    /** The highest-priority pending and enabled cause, in IIR encoding. */
    private int interruptReason() {
        if ((lsr & LSR_OE) != 0 && (ier & IER_ERLS) != 0) {
            return IIR_RLS;
        }
        if (rxCount > 0 && (ier & IER_ERXRDY) != 0) {
            // Below the trigger level a real 16550A reports a character timeout after four
            // character times of silence; time is not modelled, so it is reported at once.
            boolean fifo = (fcr & FCR_ENABLE) != 0;
            return !fifo || rxCount >= RX_TRIGGER[fcr >>> 6] ? IIR_RXRDY : IIR_RXTOUT;
        }
        if (threPending && (ier & IER_ETXRDY) != 0) {
            return IIR_TXRDY;
        }
        if ((msr & MSR_DELTA_MASK) != 0 && (ier & IER_EMSC) != 0) {
            return IIR_MLSC;
        }
        return IIR_NOPEND;
    }

    private void updateIrq() {
        boolean want = interruptReason() != IIR_NOPEND;
        if (want != irqRaised) {
            irqRaised = want;
            irq.set(want);
        }
    }

    private void rxReset(int size) {
        rxSize = size;
        rxHead = 0;
        rxCount = 0;
    }

    private boolean rxPut(byte b) {
        if (rxCount == rxSize) {
            return false;
        }
        rxFifo[(rxHead + rxCount) % rxSize] = b;
        rxCount++;
        return true;
    }

    /** Takes as much waiting host input as the receive FIFO has room for. */
    private void pullInput() {
        if (backend == null || (mcr & MCR_LOOPBACK) != 0) {
            return;
        }
        int room = rxSize - rxCount;
        if (room > 0) {
            int n = backend.readAvailable(pullBuf, 0, room);
            for (int i = 0; i < n; i++) {
                rxPut(pullBuf[i]);
            }
        }
    }

    /** The backend's readiness callback (its input thread). */
    private synchronized void inputReady() {
        pullInput();
        updateIrq();
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u8(lcr).u8(ier).u8(fcr).u8(mcr).u8(lsr).u8(msr).u8(scr).u8(dll).u8(dlh);
        out.bool(threPending);
        byte[] received = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) {
            received[i] = rxFifo[(rxHead + i) % rxSize];
        }
        out.bytes(received);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int savedLcr = in.u8();
        int savedIer = masked(in, 0x0F, "IER");
        int savedFcr = masked(in, FCR_ENABLE | FCR_DMA | FCR_RX_MASK, "FCR");
        int savedMcr = masked(in, 0x1F, "MCR");
        int savedLsr = masked(in, LSR_OE, "LSR");
        int savedMsr = in.u8();
        if ((savedMsr & ~MSR_DELTA_MASK) != modemStatus(savedMcr)) {
            throw in.invalid(String.format("MSR 0x%02x does not follow MCR 0x%02x", savedMsr, savedMcr));
        }
        int savedScr = in.u8();
        int savedDll = in.u8();
        int savedDlh = in.u8();
        boolean savedThre = in.bool();
        byte[] received = in.bytes();
        int size = (savedFcr & FCR_ENABLE) != 0 ? FIFO_SIZE : 1;
        if (received.length > size) {
            throw in.invalid(received.length + " received bytes in a FIFO of " + size);
        }
        lcr = savedLcr;
        ier = savedIer;
        fcr = savedFcr;
        mcr = savedMcr;
        lsr = savedLsr;
        msr = savedMsr;
        scr = savedScr;
        dll = savedDll;
        dlh = savedDlh;
        threPending = savedThre;
        // The UART is restored before the guest runs, but its backend is already open: bytes
        // that arrived meanwhile sit in the fresh FIFO. They come after the saved ones.
        byte[] arrived = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) {
            arrived[i] = rxFifo[(rxHead + i) % rxSize];
        }
        rxReset(size);
        for (byte b : received) {
            rxPut(b);
        }
        for (byte b : arrived) {
            if (!rxPut(b)) {
                lsr |= LSR_OE; // no room behind the saved bytes: an overrun, as on the wire
                break;
            }
        }
        pullInput();
        updateIrq();
    }

    /** A register byte that may only have the bits in {@code allowed}. */
    private static int masked(StateReader in, int allowed, String register) {
        int v = in.u8();
        if ((v & ~allowed) != 0) {
            throw in.invalid(String.format("%s 0x%02x has bits outside 0x%02x", register, v, allowed));
        }
        return v;
    }

    /** Lowers the interrupt line and closes the backend. */
    @Override
    public void close() {
        synchronized (this) {
            if (irqRaised) {
                irqRaised = false;
                irq.set(false);
            }
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Override
    public String toString() {
        return "16550 " + name;
    }
}
