package org.jbhyve.machine.acpi;

/**
 * PCI Express memory-mapped configuration table: header, 8 reserved bytes, then one
 * 16-byte allocation per segment: base address (8), segment group (2), start bus (1),
 * end bus (1), reserved (4).
 */
public final class Mcfg {
    private Mcfg() {}

    public static byte[] build(long ecamBase, int segment, int startBus, int endBus) {
        LeBuffer b = SdtHeader.begin("MCFG", 1);
        b.zeros(8);
        b.u64(ecamBase).u16(segment).u8(startBus).u8(endBus).u32(0);
        return SdtHeader.finish(b);
    }
}
