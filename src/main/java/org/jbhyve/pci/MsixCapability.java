package org.jbhyve.pci;

import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.MsiVector;

/**
 * MSI-X (PCI Local Bus 3.0, section 6.8.2) for any function: the capability in config space and
 * the table and pending-bit array (PBA) in one memory BAR, laid out the way bhyve's
 * {@code pci_emul_add_msixcap} does.
 *
 * <pre>
 * capability 0x11, 12 bytes:
 *   +2  u16 message control: 10:0 table size - 1, bit 14 function mask, bit 15 enable
 *   +4  u32 table offset | BIR (bits 2:0)
 *   +8  u32 PBA offset | BIR
 * BAR: table at 0, 16 bytes per vector: u32 address low, u32 address high, u32 data,
 *      u32 vector control (bit 0 = masked, set at reset);
 *      PBA at the table size rounded up to 4 KiB, one bit per vector, read-only.
 * </pre>
 * A vector fired while masked (or while the whole function is masked) sets its PBA bit instead
 * and is sent when it is unmasked. While MSI-X is disabled {@link #fire} does nothing: the
 * device uses INTx then. Each vector is a {@link MsiVector} from the machine (irqfd-backed), so
 * a fire costs one eventfd write.
 *
 * <p>Thread-safe: guest table accesses, config writes and {@link #fire} from device threads are
 * serialised on this object; the message itself is sent outside the lock.
 */
public final class MsixCapability implements AutoCloseable, Snapshottable {
    public static final int CAPABILITY_ID = 0x11;
    private static final int ENABLE = 0x8000;
    private static final int FUNCTION_MASK = 0x4000;
    private static final int ENTRY = 16;

    private final PciConfigSpace config;
    private final int vectors;
    private final int bar;
    private final int capability;
    private final long pbaOffset;
    private final long barSize;
    private final int[] table;
    private final boolean[] pending;
    private final MsiVector[] messages;
    private boolean enabled;
    private boolean functionMasked;

    /**
     * Adds the capability for {@code vectors} vectors (1..2048) whose table and PBA live in BAR
     * {@code bar}; the caller declares that BAR with {@link #barSize()} and {@link #handler()}.
     */
    public MsixCapability(PciConfigSpace config, PciInterrupts interrupts, int vectors, int bar) {
        if (vectors < 1 || vectors > 2048 || bar < 0 || bar > 5) {
            throw new IllegalArgumentException("MSI-X: " + vectors + " vectors in BAR " + bar);
        }
        this.config = config;
        this.vectors = vectors;
        this.bar = bar;
        this.pbaOffset = (vectors * (long) ENTRY + 4095) & ~4095L;
        long pbaBytes = ((vectors + 63) / 64) * 8L;
        this.barSize = Long.highestOneBit(pbaOffset + pbaBytes - 1) << 1;
        this.table = new int[4 * vectors];
        this.pending = new boolean[vectors];
        this.messages = new MsiVector[vectors];
        for (int i = 0; i < vectors; i++) {
            messages[i] = interrupts.msiVector();
            table[4 * i + 3] = 1;
        }
        capability = config.addCapability(CAPABILITY_ID, 12);
        config.put16(capability + 2, vectors - 1);
        config.put32(capability + 4, bar);
        config.put32(capability + 8, (int) pbaOffset | bar);
        config.setWritable(capability + 2, 2, ENABLE | FUNCTION_MASK);
    }

    /** The size of the BAR holding the table and the PBA (a power of two, at least 4 KiB). */
    public long barSize() {
        return barSize;
    }

    public int bar() {
        return bar;
    }

    public int vectorCount() {
        return vectors;
    }

    /** The capability's offset in config space. */
    public int offset() {
        return capability;
    }

    /** Whether the guest has enabled MSI-X (the device must not use INTx then). */
    public synchronized boolean enabled() {
        return enabled;
    }

    /** Re-reads the message control word after a guest config write; sends what was pending. */
    public void configWritten() {
        MsiVector[] due;
        synchronized (this) {
            int control = config.get16(capability + 2);
            enabled = (control & ENABLE) != 0;
            functionMasked = (control & FUNCTION_MASK) != 0;
            for (int v = 0; v < vectors; v++) {
                reprogram(v);
            }
            due = takeDeliverable();
        }
        send(due);
    }

    /** Signals vector {@code v}: sent now, or remembered in the PBA while masked. Out-of-range vectors are ignored. */
    public void fire(int v) {
        MsiVector m;
        synchronized (this) {
            if (!enabled || v < 0 || v >= vectors) {
                return;
            }
            if (functionMasked || (table[4 * v + 3] & 1) != 0) {
                pending[v] = true;
                return;
            }
            m = messages[v];
        }
        m.fire();
    }

    /** Whether vector {@code v}'s PBA bit is set (tests and saved state). */
    public synchronized boolean pending(int v) {
        return pending[v];
    }

    /** The BAR handler: aligned dword or qword accesses to the table; the PBA is read-only. */
    public IoHandler handler() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                synchronized (MsixCapability.this) {
                    if (size == 8 && (offset & 7) == 0) {
                        return Integer.toUnsignedLong(dword(offset)) | (long) dword(offset + 4) << 32;
                    }
                    if ((offset & 3) + size > 4) {
                        return 0;
                    }
                    return Integer.toUnsignedLong(dword(offset & ~3L)) >>> (8 * (offset & 3)) & IoHandler.mask(size);
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                MsiVector[] due;
                synchronized (MsixCapability.this) {
                    if (size == 8 && (offset & 7) == 0) {
                        writeDword(offset, (int) value);
                        writeDword(offset + 4, (int) (value >>> 32));
                    } else if (size == 4 && (offset & 3) == 0) {
                        writeDword(offset, (int) value);
                    } else {
                        return;
                    }
                    due = takeDeliverable();
                }
                send(due);
            }
        };
    }

    private int dword(long offset) {
        if (offset >= 0 && offset < (long) ENTRY * vectors) {
            return table[(int) (offset / 4)];
        }
        long pba = offset - pbaOffset;
        if (pba >= 0 && pba < ((vectors + 63) / 64) * 8L) {
            int base = (int) pba * 8;
            int bits = 0;
            for (int i = 0; i < 32 && base + i < vectors; i++) {
                bits |= pending[base + i] ? 1 << i : 0;
            }
            return bits;
        }
        return 0;
    }

    private void writeDword(long offset, int value) {
        if (offset < 0 || offset >= (long) ENTRY * vectors) {
            return;
        }
        int i = (int) (offset / 4);
        table[i] = (i & 3) == 3 ? value & 1 : value;
        reprogram(i / 4);
    }

    private void reprogram(int v) {
        boolean live = enabled && (table[4 * v + 3] & 1) == 0;
        long address = Integer.toUnsignedLong(table[4 * v]) | (long) table[4 * v + 1] << 32;
        messages[v].program(live ? address : 0, table[4 * v + 2]);
    }

    /** Clears and returns the pending vectors that may now be sent (caller holds the lock). */
    private MsiVector[] takeDeliverable() {
        if (!enabled || functionMasked) {
            return null;
        }
        MsiVector[] due = null;
        for (int v = 0; v < vectors; v++) {
            if (pending[v] && (table[4 * v + 3] & 1) == 0) {
                pending[v] = false;
                if (due == null) {
                    due = new MsiVector[vectors];
                }
                due[v] = messages[v];
            }
        }
        return due;
    }

    private static void send(MsiVector[] due) {
        if (due != null) {
            for (MsiVector m : due) {
                if (m != null) {
                    m.fire();
                }
            }
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /** The table and the PBA; the message control word is in config space (saved by the function). */
    @Override
    public synchronized void saveState(StateWriter out) {
        out.ints(table);
        for (boolean p : pending) {
            out.bool(p);
        }
    }

    /**
     * Restores the table and the PBA; call after the function's config space was restored, so
     * the enable and mask bits are read from it. Routes are reprogrammed; nothing is sent (a
     * vector that was pending stays pending until the guest unmasks it, as saved).
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int[] saved = in.ints(table.length);
        boolean[] savedPending = new boolean[vectors];
        for (int v = 0; v < vectors; v++) {
            savedPending[v] = in.bool();
        }
        System.arraycopy(saved, 0, table, 0, table.length);
        System.arraycopy(savedPending, 0, pending, 0, vectors);
        int control = config.get16(capability + 2);
        enabled = (control & ENABLE) != 0;
        functionMasked = (control & FUNCTION_MASK) != 0;
        for (int v = 0; v < vectors; v++) {
            table[4 * v + 3] &= 1;
            reprogram(v);
        }
    }

    @Override
    public void close() {
        for (MsiVector m : messages) {
            m.close();
        }
    }
}
