package org.jbhyve.machine.boot;

import org.jbhyve.memory.GuestMemory;

/**
 * Writes the entry GDT the boot protocols expect: selector 0x10 a flat code segment (32-bit, or
 * 64-bit for long-mode entry), 0x18 flat data, 0x20 a TSS descriptor (VMX insists on a usable
 * task register even though the guest never switches tasks).
 * Descriptor bits: limit 0xFFFFF with G=1 (4 GiB); access 0x9A code, 0x92 data, 0x8B busy TSS;
 * flags 0xC (G, D/B) for 32-bit, 0xA (G, L) for 64-bit code.
 */
final class GdtWriter {
    static final long CODE32 = 0x00CF9A000000FFFFL;
    static final long CODE64 = 0x00AF9A000000FFFFL;
    static final long DATA = 0x00CF92000000FFFFL;

    private GdtWriter() {}

    static void write(GuestMemory memory, EntryState.Mode mode) {
        memory.write(BootLayout.GDT, new byte[0x30]);
        memory.putLong(BootLayout.GDT + BootLayout.SELECTOR_CODE, mode == EntryState.Mode.LONG_64 ? CODE64 : CODE32);
        memory.putLong(BootLayout.GDT + BootLayout.SELECTOR_DATA, DATA);
        memory.putLong(BootLayout.GDT + BootLayout.SELECTOR_TSS, tssDescriptor(BootLayout.TSS, BootLayout.TSS_LIMIT));
        memory.write(BootLayout.TSS, new byte[BootLayout.TSS_LIMIT + 1]);
    }

    static long tssDescriptor(long base, int limit) {
        return (limit & 0xFFFFL) | ((base & 0xFFFFFFL) << 16) | (0x8BL << 40)
                | (((limit >>> 16) & 0xFL) << 48) | (((base >>> 24) & 0xFFL) << 56);
    }
}
