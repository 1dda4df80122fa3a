package org.jbhyve.devices.lpc;

import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's {@code pc-testdev}: the legacy test interfaces kvm-unit-tests (and our own test
 * guests) expect, as in bhyve's pctestdev.c. Four windows, each its own {@link IoHandler}:
 *
 * <pre>
 * port 0xF4-0xF7       isa-debug-exit: writing v (1, 2 or 4 bytes) ends the VM with exit
 *                      status (v << 1) | 1; reads return 0
 * port 0xE0-0xE3       a 32-bit scratch register, byte lanes by port (0xE1 = bits 15:8)
 * port 0x2000+n        IRQ line n, byte accesses only: write non-zero to assert, 0 to
 *                      deassert (n below 16 is an ISA IRQ, the rest IOAPIC pins); reads 0
 * MMIO 0xFF000000      64 KiB of scratch memory
 * </pre>
 *
 * The exit status is handed to {@code exitRequest} as the full int; the process exit status the
 * OS keeps is its low 8 bits, as with bhyve's exit(3). Only one pc-testdev per VM (bhyve's rule)
 * is the machine's business.
 *
 * <p>Snapshot state (layout 1): the scratch register (i32), the 64 KiB of scratch memory (raw),
 * and the level the guest last wrote to each IRQ pin (one flag per pin, length-prefixed; the
 * count must match this device's pin count). Restore drives every pin to its saved level.
 */
public final class PcTestDev implements Snapshottable {
    public static final String NAME = "pc-testdev";
    public static final int DEBUG_EXIT_PORT = 0xF4;
    public static final int DEBUG_EXIT_LEN = 4;
    public static final int IOPORT_BASE = 0xE0;
    public static final int IOPORT_LEN = 4;
    public static final int IRQ_PORT_BASE = 0x2000;
    public static final long IOMEM_BASE = 0xFF00_0000L;
    public static final int IOMEM_LEN = 0x10000;

    private final IntConsumer exitRequest;
    private final IntFunction<IrqLine> irqLines;
    private final int pinCount;
    private final byte[] iomem = new byte[IOMEM_LEN];
    private final boolean[] pinLevels;
    private int scratch;

    private final IoHandler debugExit = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {
            long v = value & IoHandler.mask(Math.min(size, 4));
            exitRequest.accept((int) ((v << 1) | 1));
        }
    };

    private final IoHandler ioport = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (PcTestDev.this) {
                if (offset + size > IOPORT_LEN) {
                    return IoHandler.mask(size);
                }
                return (scratch & 0xFFFF_FFFFL) >>> (8 * offset) & IoHandler.mask(size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (PcTestDev.this) {
                if (offset + size > IOPORT_LEN) {
                    return;
                }
                int shift = (int) (8 * offset);
                long m = IoHandler.mask(size) << shift;
                scratch = (int) ((scratch & ~m) | ((value << shift) & m));
            }
        }
    };

    private final IoHandler irq = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {
            if (size != 1 || offset >= pinCount) {
                return; // bhyve refuses wider accesses
            }
            setPin((int) offset, (value & 0xFF) != 0);
        }
    };

    private final IoHandler iomemHandler = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (PcTestDev.this) {
                if (offset < 0 || offset + size > IOMEM_LEN) {
                    return IoHandler.mask(size);
                }
                long v = 0;
                for (int i = 0; i < size; i++) {
                    v |= (iomem[(int) offset + i] & 0xFFL) << (8 * i);
                }
                return v;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (PcTestDev.this) {
                if (offset < 0 || offset + size > IOMEM_LEN) {
                    return;
                }
                for (int i = 0; i < size; i++) {
                    iomem[(int) offset + i] = (byte) (value >>> (8 * i));
                }
            }
        }
    };

    /**
     * @param exitRequest told the exit status when the guest writes 0xF4
     * @param irqLines    the interrupt line for pin n (ISA IRQ below 16, IOAPIC pin above)
     * @param pinCount    how many pins the IRQ window covers (the IOAPIC's, 24 to 32)
     */
    public PcTestDev(IntConsumer exitRequest, IntFunction<IrqLine> irqLines, int pinCount) {
        this.exitRequest = exitRequest;
        this.irqLines = irqLines;
        this.pinCount = pinCount;
        this.pinLevels = new boolean[pinCount];
    }

    /** Only the exit and scratch ports wired (no interrupt lines). */
    public PcTestDev(IntConsumer exitRequest) {
        this(exitRequest, pin -> IrqLine.NONE, 24);
    }

    /** isa-debug-exit, {@link #DEBUG_EXIT_LEN} ports at {@link #DEBUG_EXIT_PORT}. */
    public IoHandler debugExit() {
        return debugExit;
    }

    /** The scratch register, {@link #IOPORT_LEN} ports at {@link #IOPORT_BASE}. */
    public IoHandler ioport() {
        return ioport;
    }

    /** The IRQ window, {@link #irqPortCount()} ports at {@link #IRQ_PORT_BASE}. */
    public IoHandler irq() {
        return irq;
    }

    public int irqPortCount() {
        return pinCount;
    }

    /** The scratch memory, {@link #IOMEM_LEN} bytes of MMIO at {@link #IOMEM_BASE}. */
    public IoHandler iomem() {
        return iomemHandler;
    }

    private synchronized void setPin(int pin, boolean level) {
        pinLevels[pin] = level;
        irqLines.apply(pin).set(level);
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.i32(scratch);
        out.raw(iomem, 0, IOMEM_LEN);
        byte[] levels = new byte[pinCount];
        for (int pin = 0; pin < pinCount; pin++) {
            levels[pin] = (byte) (pinLevels[pin] ? 1 : 0);
        }
        out.bytes(levels);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int savedScratch = in.i32();
        byte[] savedMemory = in.raw(IOMEM_LEN);
        byte[] levels = in.bytes(pinCount);
        for (byte level : levels) {
            if (level != 0 && level != 1) {
                throw in.invalid("an IRQ pin level is " + level);
            }
        }
        scratch = savedScratch;
        System.arraycopy(savedMemory, 0, iomem, 0, IOMEM_LEN);
        for (int pin = 0; pin < pinCount; pin++) {
            boolean level = levels[pin] == 1;
            if (level != pinLevels[pin]) {
                setPin(pin, level);
            }
        }
    }
}
