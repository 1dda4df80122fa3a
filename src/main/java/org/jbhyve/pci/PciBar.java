package org.jbhyve.pci;

import org.jbhyve.bus.IoHandler;

/**
 * A Base Address Register a device asks for: its kind, size (a power of two) and the handler
 * that serves the range once it is placed. 64-bit memory BARs take two register slots.
 */
public record PciBar(int index, Kind kind, long size, boolean prefetchable, IoHandler handler) {
    public enum Kind { IO, MEMORY32, MEMORY64 }

    public PciBar {
        if (index < 0 || index > 5 || (kind == Kind.MEMORY64 && index == 5)) {
            throw new IllegalArgumentException("bad BAR index " + index);
        }
        if (size < (kind == Kind.IO ? 4 : 16) || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("BAR size must be a power of two: " + size);
        }
    }

    /** The low flag bits of the BAR register: bit 0 = I/O; bits 2:1 = type (2 = 64-bit); bit 3 = prefetchable. */
    int flagBits() {
        return switch (kind) {
            case IO -> 0x1;
            case MEMORY32 -> prefetchable ? 0x8 : 0x0;
            case MEMORY64 -> 0x4 | (prefetchable ? 0x8 : 0x0);
        };
    }
}
