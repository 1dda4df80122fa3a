package org.jbhyve.machine.acpi;

/**
 * Multiple APIC Description Table. After the header: local APIC address (4) and flags (4,
 * bit 0 PCAT_COMPAT: dual 8259s present), then interrupt controller structures:
 *
 * <pre>
 * type 0  Processor Local APIC (8):  UID(1) APIC id(1) flags(4, bit 0 enabled)
 * type 1  I/O APIC (12):             id(1) reserved(1) address(4) GSI base(4)
 * type 2  Interrupt Source Override (10): bus(1, 0 = ISA) source IRQ(1) GSI(4) flags(2)
 * type 4  Local APIC NMI (6):        UID(1, 0xFF = all) flags(2) LINT#(1)
 * type 9  Processor Local x2APIC (16): reserved(2) x2APIC id(4) flags(4) UID(4)
 * type 10 Local x2APIC NMI (12):     flags(2) UID(4, 0xFFFFFFFF = all) LINT#(1) reserved(3)
 * </pre>
 *
 * MPS INTI flags: polarity in bits 1-0 (1 high, 3 low), trigger mode in bits 3-2 (1 edge,
 * 3 level).
 *
 * <p>Processors: in x2APIC mode ({@code -x}) every one is a type 9 entry. Otherwise a processor
 * whose APIC id and UID fit in 8 bits (0-254) is a type 0 entry and any other a type 9 entry, as
 * ACPI 6.5 section 5.2.12.12 asks for APIC ids of 255 and above; the NMI on LINT1 is then
 * announced for both kinds (types 4 and 10). UIDs are the vCPU indexes, unique across both.
 */
public final class Madt {
    private Madt() {}

    public static final int PCAT_COMPAT = 1;
    public static final int POLARITY_HIGH = 0x1, POLARITY_LOW = 0x3;
    public static final int TRIGGER_EDGE = 0x4, TRIGGER_LEVEL = 0xC;
    /**
     * The SCI is announced level triggered, active high. bhyve announces it active low;
     * here the device model raises the line to assert it and KVM's in-kernel I/O APIC
     * latches the raw line level, as QEMU's tables also describe it.
     */
    public static final int SCI_FLAGS = POLARITY_HIGH | TRIGGER_LEVEL;

    public static byte[] build(PlatformDescription p) {
        CpuTopology t = p.topology();
        LeBuffer b = SdtHeader.begin("APIC", 1);
        b.u32(PlatformDescription.LAPIC_ADDRESS).u32(PCAT_COMPAT);
        boolean anyX2apic = false;
        for (int cpu = 0; cpu < t.vcpus(); cpu++) {
            int apicId = t.apicId(cpu);
            if (p.x2apic() || apicId > CpuTopology.MAX_XAPIC_ID || cpu > CpuTopology.MAX_XAPIC_ID) {
                b.u8(9).u8(16).u16(0).u32(apicId).u32(1).u32(cpu);
                anyX2apic = true;
            } else {
                b.u8(0).u8(8).u8(cpu).u8(apicId).u32(1);
            }
        }
        b.u8(1).u8(12).u8(t.ioApicId() & 0xFF).u8(0).u32(PlatformDescription.IOAPIC_ADDRESS).u32(0);
        // the PIT's IRQ 0 is wired to I/O APIC pin 2
        b.u8(2).u8(10).u8(0).u8(0).u32(2).u16(POLARITY_HIGH | TRIGGER_EDGE);
        b.u8(2).u8(10).u8(0).u8(Fadt.SCI_INT).u32(Fadt.SCI_INT).u16(SCI_FLAGS);
        // NMI on LINT1 of every processor, in the form of each kind of entry used
        if (!p.x2apic()) {
            b.u8(4).u8(6).u8(0xFF).u16(POLARITY_HIGH | TRIGGER_EDGE).u8(1);
        }
        if (anyX2apic) {
            b.u8(10).u8(12).u16(POLARITY_HIGH | TRIGGER_EDGE).u32(0xFFFF_FFFFL).u8(1).zeros(3);
        }
        return SdtHeader.finish(b);
    }
}
