package org.jbhyve.pci;

import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

import java.util.Arrays;
import java.util.List;

/**
 * Base of every emulated PCI function: owns its {@link PciConfigSpace} and BARs and implements
 * the config-space side of the BAR protocol:
 *
 * <ul>
 *   <li>a BAR reads back its address with the type bits (bit 0 I/O; bits 2:1 = 10b 64-bit; bit 3
 *       prefetchable); writing all ones and reading back returns ~(size-1), which is how a guest
 *       sizes it;</li>
 *   <li>a BAR is decoded (its range is live on a bus) only while its address is non-zero and the
 *       command register's I/O or memory enable bit is set; any change re-places it through the
 *       {@link BarMapper}.</li>
 * </ul>
 * Subclasses add device behaviour through {@link #configWritten} and their BAR handlers.
 * Config accesses are serialised on this object.
 */
public abstract class PciFunction {
    protected final PciConfigSpace config;
    private final PciBar[] bars = new PciBar[6];
    private final long[] barAddress = new long[6];
    private final long[] mappedAt = new long[6];
    private BarMapper mapper;
    private String name = getClass().getSimpleName();

    protected PciFunction(PciConfigSpace config) {
        this.config = config;
        Arrays.fill(mappedAt, -1);
    }

    /** The bhyve emulation name and location, e.g. "virtio-blk@0:2:0", for messages. */
    public String name() {
        return name;
    }

    void attach(String name, BarMapper mapper) {
        this.name = name;
        this.mapper = mapper;
    }

    public PciConfigSpace config() {
        return config;
    }

    /** Declares a BAR; call from the constructor, before the function is placed on a bus. */
    protected final void addBar(PciBar bar) {
        if (bars[bar.index()] != null || (bar.kind() == PciBar.Kind.MEMORY64 && bars[bar.index() + 1] != null)) {
            throw new IllegalStateException(name + ": BAR " + bar.index() + " declared twice");
        }
        bars[bar.index()] = bar;
    }

    public List<PciBar> bars() {
        return Arrays.stream(bars).filter(b -> b != null).toList();
    }

    public synchronized long barAddress(int index) {
        return barAddress[index];
    }

    /**
     * Programs a BAR's address as firmware would and turns on I/O or memory decoding, as bhyve
     * does when it allocates BARs at start-up (guests booted without firmware expect it).
     */
    public synchronized void assignBar(int index, long address) {
        barAddress[index] = address;
        int enable = bars[index].kind() == PciBar.Kind.IO ? PciConfigSpace.COMMAND_IO : PciConfigSpace.COMMAND_MEMORY;
        config.put16(PciConfigSpace.COMMAND, config.command() | enable);
        updateDecoding();
    }

    public synchronized long configRead(int offset, int size) {
        int bar = barIndexAt(offset);
        if (bar >= 0 || (offset >= PciConfigSpace.BAR0 && offset < PciConfigSpace.BAR0 + 24)) {
            return readBarRegisters(offset, size);
        }
        return config.read(offset, size);
    }

    public synchronized void configWrite(int offset, int size, long value) {
        if (offset >= PciConfigSpace.BAR0 && offset < PciConfigSpace.BAR0 + 24) {
            writeBarRegister(offset, size, value);
            updateDecoding();
            return;
        }
        int oldCommand = config.command();
        config.write(offset, size, value);
        if (oldCommand != config.command()) {
            updateDecoding();
        }
        configWritten(offset, size, value);
    }

    /**
     * Writes the config space and BAR addresses (the part of a snapshot every function has);
     * subclasses call it first from their {@code saveState}.
     */
    protected final synchronized void saveFunctionState(StateWriter out) {
        out.raw(config.snapshotBytes(), 0, PciConfigSpace.SIZE);
        out.longs(barAddress);
    }

    /**
     * Restores what {@link #saveFunctionState} wrote and places the BARs where the guest had
     * them. A saved identity (vendor, device, class, header type) that differs from this
     * function's means the command line has another device in this slot.
     */
    protected final synchronized void restoreFunctionState(StateReader in) {
        byte[] saved = in.raw(PciConfigSpace.SIZE);
        long[] addresses = in.longs(6);
        int savedId = (saved[0] & 0xFF) | (saved[1] & 0xFF) << 8 | (saved[2] & 0xFF) << 16 | (saved[3] & 0xFF) << 24;
        int savedClass = (saved[9] & 0xFF) | (saved[10] & 0xFF) << 8 | (saved[11] & 0xFF) << 16;
        int ownClass = config.get8(PciConfigSpace.PROG_IF) | config.get16(PciConfigSpace.PROG_IF + 1) << 8;
        if (savedId != config.get32(PciConfigSpace.VENDOR) || savedClass != ownClass) {
            throw new SnapshotException(name + ": the snapshot has device " + String.format("%04x:%04x class %06x",
                    savedId & 0xFFFF, savedId >>> 16, savedClass) + " in this slot");
        }
        for (int i = 0; i < 6; i++) {
            if (addresses[i] != 0 && bars[i] == null
                    && !(i > 0 && bars[i - 1] != null && bars[i - 1].kind() == PciBar.Kind.MEMORY64)) {
                throw in.invalid("BAR " + i + " has an address but the device has no such BAR");
            }
        }
        config.restoreBytes(saved);
        System.arraycopy(addresses, 0, barAddress, 0, 6);
        updateDecoding();
    }

    /** Hook after a guest config write outside the BARs (capabilities, command...). */
    protected void configWritten(int offset, int size, long value) {}

    /** Hook when a BAR lands at a new guest address (e.g. to move ioeventfds); -1 when unmapped. */
    protected void barMoved(PciBar bar, long address) {}

    private int barIndexAt(int offset) {
        int i = (offset - PciConfigSpace.BAR0) / 4;
        return offset >= PciConfigSpace.BAR0 && i < 6 && bars[i] != null ? i : -1;
    }

    /** The 32-bit register value of BAR slot {@code slot} (which may be the upper half of a 64-bit BAR). */
    private long barRegister(int slot) {
        PciBar bar = bars[slot];
        if (bar != null) {
            long mask = ~(bar.size() - 1);
            return (barAddress[slot] & mask & 0xFFFFFFFFL) | bar.flagBits();
        }
        if (slot > 0 && bars[slot - 1] != null && bars[slot - 1].kind() == PciBar.Kind.MEMORY64) {
            long mask = ~(bars[slot - 1].size() - 1);
            return ((barAddress[slot - 1] & mask) >>> 32) & 0xFFFFFFFFL;
        }
        return 0;
    }

    private long readBarRegisters(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) {
            int at = offset + i - PciConfigSpace.BAR0;
            long reg = barRegister(at / 4);
            v |= ((reg >>> (8 * (at % 4))) & 0xFF) << (8 * i);
        }
        return v;
    }

    private void writeBarRegister(int offset, int size, long value) {
        if (size != 4 || (offset & 3) != 0) {
            return; // BARs are programmed with aligned dword writes; others are ignored
        }
        int slot = (offset - PciConfigSpace.BAR0) / 4;
        if (bars[slot] != null) {
            PciBar bar = bars[slot];
            // An I/O BAR keeps all 32 bits, as QEMU's and bhyve's do: sizing reads back
            // 0xFFFFFFxx, which SeaBIOS needs to compute the size; decoding (updateDecoding) only
            // happens while the whole BAR lies below 64 KiB.
            long low = value & 0xFFFFFFFFL & ~(bar.size() - 1);
            barAddress[slot] = (barAddress[slot] & 0xFFFFFFFF00000000L) | low;
        } else if (slot > 0 && bars[slot - 1] != null && bars[slot - 1].kind() == PciBar.Kind.MEMORY64) {
            long high = (value & 0xFFFFFFFFL & (~(bars[slot - 1].size() - 1) >>> 32)) << 32;
            barAddress[slot - 1] = (barAddress[slot - 1] & 0xFFFFFFFFL) | high;
        }
    }

    /** Re-places every BAR according to its address and the command register. */
    private void updateDecoding() {
        int command = config.command();
        for (int i = 0; i < 6; i++) {
            PciBar bar = bars[i];
            if (bar == null) {
                continue;
            }
            boolean enabled = bar.kind() == PciBar.Kind.IO
                    ? (command & PciConfigSpace.COMMAND_IO) != 0
                    : (command & PciConfigSpace.COMMAND_MEMORY) != 0;
            long want = enabled && barAddress[i] != 0 && isSane(bar, barAddress[i]) ? barAddress[i] : -1;
            if (want == mappedAt[i]) {
                continue;
            }
            if (mappedAt[i] != -1 && mapper != null) {
                mapper.unmap(bar, mappedAt[i]);
            }
            mappedAt[i] = -1;
            if (want != -1 && mapper != null) {
                try {
                    mapper.map(bar, want, name + " BAR" + i);
                    mappedAt[i] = want;
                } catch (IllegalStateException overlap) {
                    // The guest placed the BAR over something else: leave it undecoded, as a real
                    // bus would leave the conflict undefined; the guest sees all ones there.
                }
            }
            barMoved(bar, mappedAt[i]);
        }
    }

    private static boolean isSane(PciBar bar, long address) {
        return bar.kind() != PciBar.Kind.IO || address + bar.size() <= 0x10000;
    }
}
