package org.jbhyve.machine.acpi;

import static org.jbhyve.machine.acpi.TestPlatforms.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.machine.acpi.AcpiTables.Result;
import org.junit.jupiter.api.Test;

class AcpiTablesTest {

    final PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
    final Result r = AcpiTables.build(p);

    byte[] table(String name) {
        return r.blob(name).bytes();
    }

    @Test
    void layoutFollowsBhyve() {
        assertEquals(0xF2400, r.rsdpAddress());
        assertEquals(0xF2400, r.blob("RSDP").guestPhysicalAddress());
        assertEquals(0xF2440, r.blob("RSDT").guestPhysicalAddress());
        assertEquals(0xF2480, r.blob("XSDT").guestPhysicalAddress());
        assertEquals(0xF2500, r.blob("APIC").guestPhysicalAddress());
        assertEquals(0xF2600, r.blob("FACP").guestPhysicalAddress());
        assertEquals(0xF2740, r.blob("HPET").guestPhysicalAddress());
        assertEquals(0xF2780, r.blob("MCFG").guestPhysicalAddress());
        assertEquals(0xF27C0, r.blob("FACS").guestPhysicalAddress());
        assertEquals(0xF2800, r.blob("DSDT").guestPhysicalAddress());
        assertEquals(0, r.blob("FACS").guestPhysicalAddress() % 64);
        assertTrue(r.blobs().getLast().end() <= 0x100000);
    }

    @Test
    void largeMadtMovesTheTablesAfterIt() {
        Result big = AcpiTables.build(TestPlatforms.of(new CpuTopology(32, 1, 1)));
        // 44 + 32*8 + 12 + 20 + 6 = 338 -> 0x200
        assertEquals(0xF2700, big.blob("FACP").guestPhysicalAddress());
        assertEquals(0xF2900, big.blob("DSDT").guestPhysicalAddress());
    }

    @Test
    void everySdtHasSignatureLengthAndChecksum() {
        for (TableBlob b : r.blobs()) {
            byte[] t = b.bytes();
            switch (b.name()) {
                case "RSDP" -> {
                    assertEquals("RSD PTR ", ascii(t, 0, 8));
                    assertEquals(36, t.length);
                    assertEquals(0, LeBuffer.sum8(t, 0, 20), "RSDP checksum");
                    assertEquals(0, LeBuffer.sum8(t, 0, 36), "RSDP extended checksum");
                    assertEquals(2, u8(t, 15));
                    assertEquals("BHYVE ", ascii(t, 9, 6));
                    assertEquals(0xF2440, u32(t, 16));
                    assertEquals(36, u32(t, 20));
                    assertEquals(0xF2480, u64(t, 24));
                }
                case "FACS" -> {
                    assertEquals("FACS", ascii(t, 0, 4));
                    assertEquals(64, t.length);
                    assertEquals(64, u32(t, 4));
                    assertEquals(2, u8(t, 32));
                }
                default -> {
                    assertEquals(b.name(), ascii(t, 0, 4));
                    assertEquals(t.length, u32(t, 4), b.name() + " length");
                    assertEquals(0, LeBuffer.sum8(t, 0, t.length), b.name() + " checksum");
                    assertEquals("BHYVE ", ascii(t, 10, 6));
                    assertEquals("BV" + b.name(), ascii(t, 16, 6));
                    assertEquals("BASL", ascii(t, 28, 4));
                }
            }
        }
        assertEquals("BVXSDT  ", ascii(table("XSDT"), 16, 8));
    }

    @Test
    void rootTablesListFadtFirst() {
        byte[] x = table("XSDT");
        byte[] rs = table("RSDT");
        List<Long> expected = List.of(0xF2600L, 0xF2500L, 0xF2740L, 0xF2780L);
        assertEquals(36 + 8 * 4, x.length);
        assertEquals(36 + 4 * 4, rs.length);
        for (int i = 0; i < 4; i++) {
            assertEquals(expected.get(i), u64(x, 36 + 8 * i));
            assertEquals(expected.get(i), u32(rs, 36 + 4 * i));
        }
    }

    /** Interrupt controller structures as (type, offset) pairs. */
    static List<int[]> madtEntries(byte[] m) {
        List<int[]> e = new ArrayList<>();
        for (int off = 44; off < m.length; off += u8(m, off + 1)) {
            e.add(new int[] {u8(m, off), off});
        }
        return e;
    }

    @Test
    void madtForFourCpusInTwoSockets() {
        byte[] m = table("APIC");
        assertEquals(0xFEE00000L, u32(m, 36));
        assertEquals(1, u32(m, 40));
        List<int[]> e = madtEntries(m);
        assertEquals(List.of(0, 0, 0, 0, 1, 2, 2, 4), e.stream().map(x -> x[0]).toList());
        for (int cpu = 0; cpu < 4; cpu++) {
            int off = e.get(cpu)[1];
            assertEquals(8, u8(m, off + 1));
            assertEquals(cpu, u8(m, off + 2));
            assertEquals(cpu, u8(m, off + 3));
            assertEquals(1, u32(m, off + 4));
        }
        int io = e.get(4)[1];
        assertEquals(4, u8(m, io + 2));
        assertEquals(0xFEC00000L, u32(m, io + 4));
        assertEquals(0, u32(m, io + 8));
        int iso0 = e.get(5)[1];
        assertEquals(0, u8(m, iso0 + 3));
        assertEquals(2, u32(m, iso0 + 4));
        assertEquals(0x5, u16(m, iso0 + 8));
        int sci = e.get(6)[1];
        assertEquals(9, u8(m, sci + 3));
        assertEquals(9, u32(m, sci + 4));
        assertEquals(0xD, u16(m, sci + 8));
        int nmi = e.get(7)[1];
        assertEquals(0xFF, u8(m, nmi + 2));
        assertEquals(1, u8(m, nmi + 5));
    }

    @Test
    void madtUsesTopologyApicIds() {
        byte[] m = AcpiTables.build(TestPlatforms.of(new CpuTopology(2, 3, 1))).blob("APIC").bytes();
        List<Integer> ids = madtEntries(m).stream().filter(x -> x[0] == 0).map(x -> u8(m, x[1] + 3)).toList();
        assertEquals(List.of(0, 1, 2, 4, 5, 6), ids);
    }

    @Test
    void madtX2apic() {
        byte[] m = AcpiTables.build(TestPlatforms.twoSocketsTwoCores().withX2apic(true)).blob("APIC").bytes();
        assertEquals(0, LeBuffer.sum8(m, 0, m.length));
        List<int[]> e = madtEntries(m);
        assertEquals(List.of(9, 9, 9, 9, 1, 2, 2, 10), e.stream().map(x -> x[0]).toList());
        int off = e.get(3)[1];
        assertEquals(16, u8(m, off + 1));
        assertEquals(3, u32(m, off + 4));
        assertEquals(1, u32(m, off + 8));
        assertEquals(3, u32(m, off + 12));
        int nmi = e.get(7)[1];
        assertEquals(0xFFFFFFFFL, u32(m, nmi + 4));
        assertEquals(1, u8(m, nmi + 8));
    }

    @Test
    void mcfg() {
        byte[] m = table("MCFG");
        assertEquals(60, m.length);
        assertEquals(0xE0000000L, u64(m, 44));
        assertEquals(0, u16(m, 52));
        assertEquals(0, u8(m, 54));
        assertEquals(255, u8(m, 55));
    }

    @Test
    void fadtFields() {
        byte[] f = table("FACP");
        assertEquals(Fadt.SIZE, f.length);
        assertEquals(6, u8(f, 8));
        assertEquals(0xF27C0, u32(f, Fadt.OFF_FACS));
        assertEquals(0xF2800, u32(f, Fadt.OFF_DSDT));
        assertEquals(9, u16(f, Fadt.OFF_SCI_INT));
        assertEquals(0xB2, u32(f, Fadt.OFF_SMI_CMD));
        assertEquals(0xA0, u8(f, 52));
        assertEquals(0xA1, u8(f, 53));
        assertEquals(0x400, u32(f, Fadt.OFF_PM1A_EVT));
        assertEquals(0x404, u32(f, Fadt.OFF_PM1A_CNT));
        assertEquals(0x408, u32(f, Fadt.OFF_PM_TMR));
        assertEquals(4, u8(f, Fadt.OFF_PM1_EVT_LEN));
        assertEquals(2, u8(f, 89));
        assertEquals(4, u8(f, Fadt.OFF_PM_TMR_LEN));
        assertEquals(0x32, u8(f, Fadt.OFF_CENTURY));
        long flags = u32(f, Fadt.OFF_FLAGS);
        assertTrue((flags & Fadt.WBINVD) != 0);
        assertTrue((flags & Fadt.PROC_C1) != 0);
        assertTrue((flags & Fadt.SLP_BUTTON) != 0);
        assertTrue((flags & Fadt.RESET_REG_SUP) != 0);
        assertTrue((flags & Fadt.TMR_VAL_EXT) != 0);
        assertEquals(0, flags & Fadt.PWR_BUTTON, "fixed-feature power button");
        // reset register: system I/O, 8 bits, byte access, 0xCF9, value 6
        assertEquals(1, u8(f, Fadt.OFF_RESET_REG));
        assertEquals(8, u8(f, Fadt.OFF_RESET_REG + 1));
        assertEquals(1, u8(f, Fadt.OFF_RESET_REG + 3));
        assertEquals(0xCF9, u64(f, Fadt.OFF_RESET_REG + 4));
        assertEquals(6, u8(f, Fadt.OFF_RESET_VALUE));
        assertEquals(0xF27C0, u64(f, Fadt.OFF_X_FACS));
        assertEquals(0xF2800, u64(f, Fadt.OFF_X_DSDT));
        assertEquals(1, u8(f, Fadt.OFF_X_PM1A_EVT));
        assertEquals(32, u8(f, Fadt.OFF_X_PM1A_EVT + 1));
        assertEquals(0x400, u64(f, Fadt.OFF_X_PM1A_EVT + 4));
        assertEquals(16, u8(f, Fadt.OFF_X_PM1A_CNT + 1));
        assertEquals(0x404, u64(f, Fadt.OFF_X_PM1A_CNT + 4));
        assertEquals(32, u8(f, Fadt.OFF_X_PM_TMR + 1));
        assertEquals(0x408, u64(f, Fadt.OFF_X_PM_TMR + 4));
        assertEquals(0, u16(f, Fadt.OFF_BOOT_ARCH) & Fadt.BOOT_8042);
    }

    @Test
    void i8042SetsTheBootFlag() {
        List<PlatformDescription.IsaDevice> isa = new ArrayList<>(p.isaDevices());
        isa.add(PlatformDescription.IsaDevice.i8042Keyboard());
        byte[] f = AcpiTables.build(p.withIsaDevices(isa)).blob("FACP").bytes();
        assertEquals(Fadt.BOOT_8042, u16(f, Fadt.OFF_BOOT_ARCH) & Fadt.BOOT_8042);
    }

    @Test
    void hpetOnlyWhenAsked() {
        byte[] h = table("HPET");
        assertEquals(56, h.length);
        assertEquals(PlatformDescription.BHYVE_HPET_BLOCK_ID & 0xFFFFFFFFL, u32(h, 36));
        assertEquals(0xFED00000L, u64(h, 44));
        Result none = AcpiTables.build(p.withHpet(false));
        assertTrue(none.blobs().stream().noneMatch(b -> b.name().equals("HPET")));
        assertEquals(36 + 8 * 3, none.blob("XSDT").bytes().length);
        assertEquals(0xF27C0, none.blob("FACS").guestPhysicalAddress());
    }

    @Test
    void dsdtHeaderAndContent() {
        byte[] d = table("DSDT");
        assertEquals(2, u8(d, 8));
        String s = new String(d, java.nio.charset.StandardCharsets.ISO_8859_1);
        for (String n : List.of("PCI0", "_PRT", "_S5_", "PWRB", "COM1", "COM2", "RTC_", "HPET", "_PIC")) {
            assertTrue(s.contains(n), n);
        }
        assertFalse(s.contains("KBD_"));
    }

    @Test
    void writerCallbackReceivesEveryBlob() {
        List<Long> seen = new ArrayList<>();
        TableBlob.writeAll(r.blobs(), (a, bytes) -> seen.add(a));
        assertEquals(r.blobs().stream().map(TableBlob::guestPhysicalAddress).toList(), seen);
    }
}
