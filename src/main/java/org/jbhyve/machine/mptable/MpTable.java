package org.jbhyve.machine.mptable;

import java.util.List;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.machine.acpi.LeBuffer;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.PlatformDescription.PciInterruptRoute;
import org.jbhyve.machine.acpi.TableBlob;

/**
 * Intel MultiProcessor Specification 1.4 tables, as bhyve's mptbl.c lays them out (omitted
 * with {@code -Y}). At {@link #BASE} (0xF0000) the 16-byte floating pointer, immediately
 * followed by the configuration table:
 *
 * <pre>
 * Floating pointer: "_MP_"  PhysAddr(4) of the config table  Length(1, 16-byte units = 1)
 *                   SpecRev(1, 4 = 1.4)  Checksum(1)  Features[5] (all 0: a config table
 *                   is present, no IMCR)
 * Config header (44): "PCMP" BaseTableLength(2) SpecRev(1) Checksum(1) OemId[8]
 *                   ProductId[12] OemTablePtr(4) OemTableSize(2) EntryCount(2)
 *                   LocalApicAddress(4) ExtTableLength(2) ExtTableChecksum(1) reserved(1)
 * Entries, in order:
 *   0 processor (20): type, APIC id, APIC version, flags (bit 0 enabled, bit 1 BSP),
 *                     CPU signature(4), feature flags(4), reserved(8)
 *   1 bus (8):        type, bus id, bus type[6] ("PCI   " id 0, "ISA   " id 1)
 *   2 I/O APIC (8):   type, id, version, flags (bit 0 enabled), address(4)
 *   3 I/O interrupt (8): type, interrupt type (0 INT, 1 NMI, 2 SMI, 3 ExtINT), flags(2),
 *                     source bus, source IRQ, destination I/O APIC id, destination pin
 *   4 local interrupt (8): same, destination local APIC id (0xFF all) and LINTn
 * </pre>
 *
 * The configuration table may also live elsewhere, wherever the pointer's PhysAddr says:
 * {@link #build(PlatformDescription, long, long)} splits the two for a table longer than the
 * 4 KiB bhyve leaves it.
 *
 * I/O interrupt entries: ISA IRQs 0-15 on pins 0-15 (pin 0 ExtINT, IRQ 0 on pin 2, the
 * SCI level triggered), then one per PCI INTx route with source IRQ {@code slot << 2 | pin}.
 * Interrupt flags: polarity bits 1-0 (0 conforms, 1 high, 3 low), trigger bits 3-2
 * (0 conforms, 1 edge, 3 level); PCI routes conform (level, active low).
 */
public final class MpTable {
    private MpTable() {}

    public static final long BASE = 0xF0000;
    /** Room before the SMBIOS tables at 0xF1000. */
    public static final int MAX_LENGTH = 0x1000;
    public static final String OEM_ID = "BHyVe   ";
    public static final String PRODUCT_ID = "Hypervisor  ";
    static final int SPEC_REV = 4;
    static final int LAPIC_VERSION = 0x10;
    static final int IOAPIC_VERSION = 0x11;
    /** bhyve's fixed processor signature (family 6, model 26, stepping 5) and features. */
    static final int CPU_SIGNATURE = 6 << 8 | 26 << 4 | 5;
    static final int CPU_FEATURES = 0xBFEB_FBFF;
    static final int PCI_BUS_ID = 0, ISA_BUS_ID = 1;
    static final int INT = 0, NMI = 1, EXTINT = 3;
    static final int SCI_IRQ = 9;
    static final int SCI_FLAGS = 0x1 | 0xC; // active high, level: as the MADT says

    public static final int ENTRY_PROCESSOR = 0, ENTRY_BUS = 1, ENTRY_IOAPIC = 2;
    public static final int ENTRY_IO_INT = 3, ENTRY_LOCAL_INT = 4;

    public static TableBlob build(PlatformDescription p) {
        return build(p, BASE);
    }

    /** bhyve's layout: the floating pointer at {@code base}, the configuration table right after it. */
    public static TableBlob build(PlatformDescription p, long base) {
        byte[] config = configurationTable(p);
        if (16 + config.length > MAX_LENGTH) {
            throw new IllegalStateException("MP table overflows into SMBIOS: " + (16 + config.length));
        }
        LeBuffer b = new LeBuffer().bytes(floatingPointer(base + 16)).bytes(config);
        return new TableBlob("MPTABLE", base, b.toByteArray());
    }

    /**
     * The floating pointer at {@code base} and the configuration table at {@code configAddress}
     * (anywhere below 4 GiB: the pointer holds its address), for a table longer than bhyve's
     * 4 KiB slot (more than about 150 processors).
     */
    public static List<TableBlob> build(PlatformDescription p, long base, long configAddress) {
        return List.of(new TableBlob("MPTABLE", base, floatingPointer(configAddress)),
                new TableBlob("MPCONFIG", configAddress, configurationTable(p)));
    }

    /** Length of the floating pointer and the configuration table together. */
    public static int length(PlatformDescription p) {
        return 16 + configurationTable(p).length;
    }

    /** Whether the table can describe {@code p}: its APIC ids fit in 8 bits (see {@link CpuTopology#xapicIds}). */
    public static boolean canDescribe(PlatformDescription p) {
        return p.topology().xapicIds();
    }

    private static byte[] floatingPointer(long configAddress) {
        LeBuffer b = new LeBuffer();
        b.ascii("_MP_", 4, ' ').u32(configAddress).u8(1).u8(SPEC_REV).u8(0).zeros(5);
        b.fixChecksum(0, 16, 10);
        return b.toByteArray();
    }

    private static byte[] configurationTable(PlatformDescription p) {
        CpuTopology t = p.topology();
        int ioApicId = t.ioApicId();
        if (!canDescribe(p)) {
            throw new IllegalArgumentException("the MP table holds 8-bit APIC ids; use -Y");
        }
        for (PciInterruptRoute r : p.pciRoutes()) {
            if (r.bus() != 0) {
                throw new IllegalArgumentException(
                        "the MP table cannot describe PCI buses other than 0; use -Y");
            }
        }
        LeBuffer b = new LeBuffer();
        int hdr = 0;
        b.ascii("PCMP", 4, ' ').u16(0).u8(SPEC_REV).u8(0).ascii(OEM_ID, 8, ' ')
                .ascii(PRODUCT_ID, 12, ' ').u32(0).u16(0).u16(0)
                .u32(PlatformDescription.LAPIC_ADDRESS).u16(0).u8(0).u8(0);
        int entries = 0;
        for (int cpu = 0; cpu < t.vcpus(); cpu++) {
            int flags = 1 | (cpu == 0 ? 2 : 0);
            b.u8(ENTRY_PROCESSOR).u8(t.apicId(cpu)).u8(LAPIC_VERSION).u8(flags)
                    .u32(CPU_SIGNATURE).u32(CPU_FEATURES).zeros(8);
            entries++;
        }
        b.u8(ENTRY_BUS).u8(PCI_BUS_ID).ascii("PCI", 6, ' ');
        b.u8(ENTRY_BUS).u8(ISA_BUS_ID).ascii("ISA", 6, ' ');
        entries += 2;
        b.u8(ENTRY_IOAPIC).u8(ioApicId).u8(IOAPIC_VERSION).u8(1).u32(PlatformDescription.IOAPIC_ADDRESS);
        entries++;
        for (int pin = 0; pin < 16; pin++) {
            int type = pin == 0 ? EXTINT : INT;
            int srcIrq = pin == 2 ? 0 : pin;
            int flags = pin == SCI_IRQ ? SCI_FLAGS : 0;
            b.u8(ENTRY_IO_INT).u8(type).u16(flags).u8(ISA_BUS_ID).u8(srcIrq).u8(ioApicId).u8(pin);
            entries++;
        }
        for (PciInterruptRoute r : p.pciRoutes()) {
            b.u8(ENTRY_IO_INT).u8(INT).u16(0).u8(PCI_BUS_ID).u8(r.slot() << 2 | r.pin())
                    .u8(ioApicId).u8(r.gsi());
            entries++;
        }
        // LINT0 is ExtINT and LINT1 NMI on every local APIC
        b.u8(ENTRY_LOCAL_INT).u8(EXTINT).u16(0).u8(ISA_BUS_ID).u8(0).u8(0xFF).u8(0);
        b.u8(ENTRY_LOCAL_INT).u8(NMI).u16(0).u8(ISA_BUS_ID).u8(0).u8(0xFF).u8(1);
        entries += 2;

        b.putU16(hdr + 4, b.size() - hdr);
        b.putU16(hdr + 34, entries);
        b.fixChecksum(hdr, b.size(), hdr + 7);
        return b.toByteArray();
    }

    /** Entry count and types, for tests and diagnostics. */
    static List<Integer> entryTypes(byte[] table) {
        int n = (table[16 + 34] & 0xFF) | (table[16 + 35] & 0xFF) << 8;
        List<Integer> types = new java.util.ArrayList<>();
        int off = 16 + 44;
        for (int i = 0; i < n; i++) {
            int type = table[off] & 0xFF;
            types.add(type);
            off += type == ENTRY_PROCESSOR ? 20 : 8;
        }
        return types;
    }
}
