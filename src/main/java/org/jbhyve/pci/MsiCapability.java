package org.jbhyve.pci;

import org.jbhyve.irq.MsiVector;

/**
 * A Message Signalled Interrupts capability (PCI Local Bus 3.0, 6.8.1) with one message and a
 * 64-bit address, the form bhyve's {@code pci_emul_add_msicap} gives single-vector devices:
 *
 * <pre>
 * +0  u8  capability id 0x05      +1  u8  next pointer
 * +2  u16 message control: bit 0 MSI enable, bits 3:1 multiple message capable (0 = one),
 *         bits 6:4 multiple message enable (read-only 0 here), bit 7 64-bit address capable (1)
 * +4  u32 message address, low (bits 1:0 reserved, read as 0)
 * +8  u32 message address, high
 * +12 u16 message data
 * </pre>
 * While MSI is enabled a function must not assert INTx (6.8.3.3): callers check
 * {@link #enabled()} before raising their pin. The message is re-read after each config write
 * that touches the capability and handed to an {@link MsiVector} (an irqfd in a real VM).
 *
 * <p>Thread-safe: the vector is reprogrammed under this object's lock and fired outside it.
 */
public final class MsiCapability {
    public static final int ID = 0x05;
    public static final int LENGTH = 14;
    public static final int CONTROL = 2, ADDRESS_LOW = 4, ADDRESS_HIGH = 8, DATA = 12;
    public static final int ENABLE = 0x0001, ADDRESS_64 = 0x0080;

    private final PciConfigSpace config;
    private final MsiVector vector;
    private final int offset;
    private volatile boolean enabled;

    /** Appends the capability to {@code config}; messages go out through {@code vector}. */
    public MsiCapability(PciConfigSpace config, MsiVector vector) {
        this.config = config;
        this.vector = vector;
        this.offset = config.addCapability(ID, LENGTH);
        config.put16(offset + CONTROL, ADDRESS_64);
        config.setWritable(offset + CONTROL, 2, ENABLE);
        config.setWritable(offset + ADDRESS_LOW, 4, 0xFFFFFFFCL);
        config.setWritable(offset + ADDRESS_HIGH, 4, 0xFFFFFFFFL);
        config.setWritable(offset + DATA, 2, 0xFFFF);
    }

    /** Where the capability sits in config space. */
    public int offset() {
        return offset;
    }

    /** Whether the guest has enabled MSI (then INTx must stay low). */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Re-reads the capability after a guest config write of {@code size} bytes at
     * {@code at}; writes elsewhere are ignored. Returns whether the enable bit changed.
     * Callers must serialise this with other writes to the config space (as
     * {@link PciFunction#configWrite} does).
     */
    public boolean configWritten(int at, int size) {
        if (at + size <= offset || at >= offset + LENGTH) {
            return false;
        }
        synchronized (this) {
            boolean was = enabled;
            boolean now = (config.get16(offset + CONTROL) & ENABLE) != 0;
            long address = Integer.toUnsignedLong(config.get32(offset + ADDRESS_LOW))
                    | (long) config.get32(offset + ADDRESS_HIGH) << 32;
            vector.program(now ? address : 0, config.get16(offset + DATA));
            enabled = now;
            return was != now;
        }
    }

    /**
     * Re-reads the whole capability from config space after a snapshot restored it, and routes
     * the message as the guest had programmed it.
     */
    public void restored() {
        configWritten(offset, LENGTH);
    }

    /** Sends the message if MSI is enabled; returns whether it was sent. */
    public boolean fire() {
        if (!enabled) {
            return false;
        }
        vector.fire();
        return true;
    }

    /** Releases the vector (an irqfd route in a real VM). */
    public void close() {
        vector.close();
    }
}
