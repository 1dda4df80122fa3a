package org.jbhyve.virtio;

import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.MsiVector;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciInterrupts;

/**
 * How a virtio PCI function interrupts the guest, in the order the guest may choose them:
 *
 * <ul>
 *   <li>MSI-X (default; bhyve without -W): one table entry per queue vector plus the config
 *       vector, the driver picks entries through the queue/config vector registers. Capability
 *       0x11: u16 control (10:0 table size - 1, bit 14 function mask, bit 15 enable), u32 table
 *       offset | BIR, u32 PBA offset | BIR. Table entry (16 bytes): u32 addr lo, u32 addr hi,
 *       u32 data, u32 control (bit 0 masked). A masked vector sets its PBA bit instead of firing
 *       and fires when unmasked.</li>
 *   <li>MSI (with -W): capability 0x05, 64-bit, one message: u16 control (bit 0 enable, 3:1
 *       multiple message capable = 0, 6:4 enabled, bit 7 64-bit), u32 addr lo, u32 addr hi,
 *       u16 data. Every interrupt sends the one message and sets the ISR bits.</li>
 *   <li>INTx: the ISR bits are ORed in and the pin asserted; a read of the ISR register returns
 *       and clears them and deasserts the pin.</li>
 * </ul>
 * Thread-safe: the fast path ({@link #queue}) is a short synchronized check and one eventfd write.
 */
final class VirtioInterrupts implements AutoCloseable {
    static final int TABLE_OFFSET = 0;
    static final int PBA_OFFSET = 0x800;
    static final int MSIX_BAR_SIZE = 0x1000;
    private static final int MSIX_ENABLE = 0x8000;
    private static final int MSIX_MASK = 0x4000;
    private static final int MSI_ENABLE = 1;

    private final PciConfigSpace config;
    private final PciInterrupts pci;
    private final boolean useMsix;
    private final int vectorCount;
    private final int capability;
    private final int[] table;          // 4 dwords per entry
    private final boolean[] pending;
    private final MsiVector[] vectors;
    private boolean msixEnabled;
    private boolean functionMasked;
    private boolean msiEnabled;
    private int isr;

    VirtioInterrupts(PciConfigSpace config, PciInterrupts pci, boolean useMsix, int vectorCount) {
        this.config = config;
        this.pci = pci;
        this.useMsix = useMsix;
        this.vectorCount = vectorCount;
        this.table = new int[4 * vectorCount];
        this.pending = new boolean[vectorCount];
        this.vectors = new MsiVector[useMsix ? vectorCount : 1];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = pci.msiVector();
        }
        for (int i = 0; i < vectorCount; i++) {
            table[4 * i + 3] = 1; // masked at reset
        }
        if (useMsix) {
            capability = config.addCapability(0x11, 12);
            config.put16(capability + 2, vectorCount - 1);
            config.put32(capability + 4, TABLE_OFFSET | VirtioPci.MSIX_BAR);
            config.put32(capability + 8, PBA_OFFSET | VirtioPci.MSIX_BAR);
            config.setWritable(capability + 2, 2, MSIX_ENABLE | MSIX_MASK);
        } else {
            capability = config.addCapability(0x05, 14);
            config.put16(capability + 2, 0x80);
            config.setWritable(capability + 2, 2, MSI_ENABLE | 0x70);
            config.setWritable(capability + 4, 4, 0xFFFFFFFCL);
            config.setWritable(capability + 8, 4, 0xFFFFFFFFL);
            config.setWritable(capability + 12, 2, 0xFFFF);
        }
    }

    boolean usesMsix() {
        return useMsix;
    }

    int vectorCount() {
        return useMsix ? vectorCount : 0;
    }

    /** Whether MSI-X is enabled now (the legacy register layout depends on it). */
    synchronized boolean msixEnabled() {
        return msixEnabled;
    }

    /** Re-reads the capability after a guest config write. */
    synchronized void configWritten() {
        if (useMsix) {
            int control = config.get16(capability + 2);
            msixEnabled = (control & MSIX_ENABLE) != 0;
            functionMasked = (control & MSIX_MASK) != 0;
            for (int v = 0; v < vectorCount; v++) {
                reprogram(v);
                deliverPending(v);
            }
        } else {
            int control = config.get16(capability + 2);
            msiEnabled = (control & MSI_ENABLE) != 0;
            long address = Integer.toUnsignedLong(config.get32(capability + 4))
                    | (long) config.get32(capability + 8) << 32;
            vectors[0].program(msiEnabled ? address : 0, config.get16(capability + 12));
        }
        if (msixEnabled || msiEnabled) {
            pci.intx().set(false);
        }
    }

    /** Interrupt for a queue whose driver-chosen MSI-X vector is {@code vector}. */
    void queue(int vector) {
        signal(vector, VirtioPci.ISR_QUEUE);
    }

    void config(int vector) {
        signal(vector, VirtioPci.ISR_CONFIG);
    }

    private void signal(int vector, int isrBit) {
        MsiVector fire = null;
        synchronized (this) {
            if (msixEnabled) {
                if (vector >= vectorCount) {
                    return; // NO_VECTOR: the driver asked for no interrupt
                }
                if (functionMasked || (table[4 * vector + 3] & 1) != 0) {
                    pending[vector] = true;
                    return;
                }
                fire = vectors[vector];
            } else {
                isr |= isrBit;
                if (msiEnabled) {
                    fire = vectors[0];
                } else {
                    pci.intx().set(true);
                }
            }
        }
        if (fire != null) {
            fire.fire();
        }
    }

    /** ISR read: returns and clears the bits, deasserts INTx. */
    synchronized int readIsr() {
        int v = isr;
        isr = 0;
        if (v != 0 && !msiEnabled && !msixEnabled) {
            pci.intx().set(false);
        }
        return v;
    }

    /** Device reset: ISR cleared, pin deasserted (the MSI-X table is PCI state and stays). */
    synchronized void reset() {
        isr = 0;
        pci.intx().set(false);
    }

    private void reprogram(int v) {
        boolean live = msixEnabled && (table[4 * v + 3] & 1) == 0;
        long address = Integer.toUnsignedLong(table[4 * v]) | (long) table[4 * v + 1] << 32;
        vectors[v].program(live ? address : 0, table[4 * v + 2]);
    }

    private void deliverPending(int v) {
        if (pending[v] && msixEnabled && !functionMasked && (table[4 * v + 3] & 1) == 0) {
            pending[v] = false;
            vectors[v].fire();
        }
    }

    /** The MSI-X BAR: table at 0, PBA at 0x800. Only aligned dword (or qword) accesses count. */
    IoHandler msixBar() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                synchronized (VirtioInterrupts.this) {
                    if (size == 8) {
                        return Integer.toUnsignedLong(dword(offset)) | (long) dword(offset + 4) << 32;
                    }
                    return Integer.toUnsignedLong(dword(offset & ~3)) >>> (8 * (offset & 3)) & IoHandler.mask(size);
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                synchronized (VirtioInterrupts.this) {
                    if (size == 8 && (offset & 7) == 0) {
                        writeDword(offset, (int) value);
                        writeDword(offset + 4, (int) (value >>> 32));
                    } else if (size == 4 && (offset & 3) == 0) {
                        writeDword(offset, (int) value);
                    }
                }
            }
        };
    }

    private int dword(long offset) {
        if (offset >= TABLE_OFFSET && offset < TABLE_OFFSET + 16L * vectorCount) {
            return table[(int) (offset - TABLE_OFFSET) / 4];
        }
        if (offset >= PBA_OFFSET && offset < PBA_OFFSET + 8L * ((vectorCount + 63) / 64)) {
            int base = (int) (offset - PBA_OFFSET) * 8;
            int bits = 0;
            for (int i = 0; i < 32 && base + i < vectorCount; i++) {
                bits |= pending[base + i] ? 1 << i : 0;
            }
            return bits;
        }
        return 0;
    }

    private void writeDword(long offset, int value) {
        if (offset >= TABLE_OFFSET && offset < TABLE_OFFSET + 16L * vectorCount) {
            int i = (int) (offset - TABLE_OFFSET) / 4;
            table[i] = (i & 3) == 3 ? value & 1 : value;
            reprogram(i / 4);
            deliverPending(i / 4);
        }
    }

    @Override
    public void close() {
        for (MsiVector v : vectors) {
            v.close();
        }
    }
}
