package org.jbhyve.machine.acpi;

/**
 * IA-PC HPET description table (56 bytes): header, event timer block id (the capabilities
 * register's low 32 bits), base address as a GAS in system memory, HPET number, minimum
 * clock tick in periodic mode, page protection (1 = 4 KiB protected, as bhyve).
 */
public final class Hpet {
    private Hpet() {}

    public static byte[] build(int eventTimerBlockId, long address) {
        LeBuffer b = SdtHeader.begin("HPET", 1);
        b.u32(eventTimerBlockId & 0xFFFF_FFFFL);
        SdtHeader.gas(b, SdtHeader.GAS_SYSTEM_MEMORY, 0, 0, 0, address);
        b.u8(0).u16(0).u8(1);
        return SdtHeader.finish(b);
    }
}
