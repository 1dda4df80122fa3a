package org.jbhyve.machine;

import static org.jbhyve.machine.acpi.TestPlatforms.ascii;
import static org.jbhyve.machine.acpi.TestPlatforms.u16;
import static org.jbhyve.machine.acpi.TestPlatforms.u32;
import static org.jbhyve.machine.acpi.TestPlatforms.u64;
import static org.jbhyve.machine.acpi.TestPlatforms.u8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jbhyve.machine.acpi.AcpiTables;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.machine.acpi.LeBuffer;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.TableBlob;
import org.jbhyve.machine.acpi.TestPlatforms;
import org.jbhyve.machine.mptable.MpTable;
import org.jbhyve.machine.smbios.SmbiosTables;
import org.junit.jupiter.api.Test;

/**
 * The BIOS area as a guest reads it: the tables are found from the scanned anchors (MP floating
 * pointer, SMBIOS entry point, RSDP) by following their pointers, whatever the vCPU count.
 */
class BiosTablesTest {
    /** Guest memory below 1 MiB with the layout written into it. */
    private static final class LowMemory {
        final byte[] bytes = new byte[0x10_0000];

        LowMemory(List<TableBlob> blobs) {
            TableBlob.writeAll(blobs, (address, b) -> System.arraycopy(b, 0, bytes, (int) address, b.length));
        }

        byte[] slice(long address, int length) {
            byte[] out = new byte[length];
            System.arraycopy(bytes, (int) address, out, 0, length);
            return out;
        }

        /** An ACPI table by its header's length. */
        byte[] sdt(long address) {
            return slice(address, (int) u32(bytes, (int) address + 4));
        }
    }

    private static BiosTables.Layout layout(PlatformDescription p) {
        return BiosTables.build(p, true, true, Map.of(), "host");
    }

    /** bhyve's -c N: N sockets of one core. */
    private static PlatformDescription sockets(int n) {
        return TestPlatforms.of(new CpuTopology(n, 1, 1));
    }

    @Test
    void anOrdinaryMachineKeepsBhyvesLayoutByteForByte() {
        PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
        BiosTables.Layout l = layout(p);
        assertEquals(List.of(), l.notices());
        assertEquals(AcpiTables.BHYVE_ACPI_BASE, l.rsdp());
        List<TableBlob> expected = new ArrayList<>(List.of(MpTable.build(p), SmbiosTables.build(p, Map.of(), "host")));
        expected.addAll(AcpiTables.build(p).blobs());
        assertEquals(expected.size(), l.blobs().size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).guestPhysicalAddress(), l.blobs().get(i).guestPhysicalAddress());
            assertArrayEquals(expected.get(i).bytes(), l.blobs().get(i).bytes(), expected.get(i).name());
        }
    }

    @Test
    void c288LeavesTheMpTableOutAndDescribesEveryCpu() {
        PlatformDescription p = sockets(288);
        BiosTables.Layout l = layout(p);
        assertEquals(1, l.notices().size());
        assertTrue(l.notices().getFirst().startsWith("the MP table holds 8-bit APIC ids, which 288 vCPUs"),
                l.notices().getFirst());
        assertFalse(l.notices().getFirst().contains("\n"));
        LowMemory m = new LowMemory(l.blobs());
        assertFalse(ascii(m.bytes, 0xF0000, 4).equals("_MP_"), "no MP floating pointer");
        assertEquals(288, madtProcessors(m, l.rsdp()));
        assertEquals(288, smbiosProcessors(m));
        assertInsideTheBiosArea(l);
    }

    @Test
    void c1024DescribesEveryCpuInMadtAndSmbios() {
        PlatformDescription p = sockets(1024);
        BiosTables.Layout l = layout(p);
        LowMemory m = new LowMemory(l.blobs());
        assertEquals(1024, madtProcessors(m, l.rsdp()));
        assertEquals("_SM3_", ascii(m.bytes, (int) SmbiosTables.BASE, 5), "a table over 64 KiB needs the 3.0 entry point");
        assertEquals(1024, smbiosProcessors(m));
        assertInsideTheBiosArea(l);

        PlatformDescription cores = TestPlatforms.of(new CpuTopology(4, 256, 1)).withX2apic(true);
        BiosTables.Layout x2 = layout(cores);
        assertEquals(1024, madtProcessors(new LowMemory(x2.blobs()), x2.rsdp()));
        assertEquals(4, smbiosProcessors(new LowMemory(x2.blobs())), "one processor structure per socket");
    }

    @Test
    void aLongMpTableMovesItsConfigurationTable() {
        PlatformDescription p = sockets(200);
        BiosTables.Layout l = layout(p);
        assertEquals(List.of(), l.notices());
        LowMemory m = new LowMemory(l.blobs());
        assertEquals("_MP_", ascii(m.bytes, 0xF0000, 4));
        assertEquals(0, LeBuffer.sum8(m.bytes, 0xF0000, 0xF0010));
        long config = u32(m.bytes, 0xF0004);
        assertTrue(config >= BiosTables.OVERFLOW_BASE && config < BiosTables.OVERFLOW_END, Long.toHexString(config));
        assertEquals("PCMP", ascii(m.bytes, (int) config, 4));
        int length = u16(m.bytes, (int) config + 4);
        assertEquals(0, LeBuffer.sum8(m.bytes, (int) config, (int) config + length));
        int processors = 0;
        int off = (int) config + 44;
        for (int i = 0; i < u16(m.bytes, (int) config + 34); i++) {
            processors += u8(m.bytes, off) == MpTable.ENTRY_PROCESSOR ? 1 : 0;
            off += u8(m.bytes, off) == MpTable.ENTRY_PROCESSOR ? 20 : 8;
        }
        assertEquals(200, processors);
        assertEquals(200, madtProcessors(m, l.rsdp()));
        assertInsideTheBiosArea(l);
    }

    @Test
    void withoutMpTableOrAcpiOnlySmbiosIsWritten() {
        BiosTables.Layout l = BiosTables.build(sockets(300), false, false, Map.of(), "host");
        assertEquals(List.of(), l.notices(), "-Y asked for no MP table: nothing to say");
        assertEquals(0, l.rsdp());
        assertEquals(300, smbiosProcessors(new LowMemory(l.blobs())));
    }

    /** RSDP -> XSDT -> MADT, as a guest walks them; counts type 0 and type 9 entries, checking ids. */
    private static int madtProcessors(LowMemory m, long rsdp) {
        assertEquals("RSD PTR ", ascii(m.bytes, (int) rsdp, 8));
        assertEquals(0, LeBuffer.sum8(m.bytes, (int) rsdp, (int) rsdp + 36));
        byte[] xsdt = m.sdt(u64(m.bytes, (int) rsdp + 24));
        assertEquals("XSDT", ascii(xsdt, 0, 4));
        byte[] madt = null;
        for (int off = 36; off < xsdt.length; off += 8) {
            byte[] t = m.sdt(u64(xsdt, off));
            assertEquals(0, LeBuffer.sum8(t, 0, t.length), ascii(t, 0, 4));
            if (ascii(t, 0, 4).equals("APIC")) {
                madt = t;
            }
        }
        Set<Long> ids = new HashSet<>();
        Set<Long> uids = new HashSet<>();
        int processors = 0;
        boolean x2apicNmi = false;
        for (int off = 44; off < madt.length; off += u8(madt, off + 1)) {
            int type = u8(madt, off);
            if (type == 0) {
                assertTrue(u8(madt, off + 3) <= 254);
                ids.add((long) u8(madt, off + 3));
                uids.add((long) u8(madt, off + 2));
                processors++;
            } else if (type == 9) {
                ids.add(u32(madt, off + 4));
                uids.add(u32(madt, off + 12));
                processors++;
            } else if (type == 10) {
                x2apicNmi = true;
            }
        }
        assertEquals(processors, ids.size(), "distinct APIC ids");
        assertEquals(processors, uids.size(), "distinct processor UIDs");
        if (processors > 255) {
            assertTrue(x2apicNmi, "LINT1 NMI announced for the x2APIC entries too");
        }
        return processors;
    }

    /** The SMBIOS entry point at 0xF1000 (2.x or 3.0) -> the structure table; counts type 4 structures. */
    private static int smbiosProcessors(LowMemory m) {
        int ep = (int) SmbiosTables.BASE;
        long table;
        long length;
        if (ascii(m.bytes, ep, 5).equals("_SM3_")) {
            assertEquals(0, LeBuffer.sum8(m.bytes, ep, ep + 0x18));
            length = u32(m.bytes, ep + 12);
            table = u64(m.bytes, ep + 16);
        } else {
            assertEquals("_SM_", ascii(m.bytes, ep, 4));
            assertEquals(0, LeBuffer.sum8(m.bytes, ep, ep + 0x1F));
            assertEquals("_DMI_", ascii(m.bytes, ep + 16, 5));
            length = u16(m.bytes, ep + 22);
            table = u32(m.bytes, ep + 24);
        }
        int processors = 0;
        int off = (int) table;
        int end = (int) (table + length);
        while (off < end) {
            int type = u8(m.bytes, off);
            if (type == 4) {
                processors++;
            }
            int s = off + u8(m.bytes, off + 1);
            while (m.bytes[s] != 0 || m.bytes[s + 1] != 0) {
                s++;
            }
            off = s + 2;
            if (type == 127) {
                break;
            }
        }
        assertEquals(end, off, "the table's length covers its structures");
        return processors;
    }

    private static void assertInsideTheBiosArea(BiosTables.Layout l) {
        List<TableBlob> sorted = l.blobs().stream().sorted(Comparator.comparingLong(TableBlob::guestPhysicalAddress))
                .toList();
        for (int i = 0; i < sorted.size(); i++) {
            TableBlob b = sorted.get(i);
            assertTrue(b.guestPhysicalAddress() >= BiosTables.OVERFLOW_BASE && b.end() <= 0x10_0000, b.toString());
            assertTrue(b.end() <= BiosTables.OVERFLOW_END || b.guestPhysicalAddress() >= BiosTables.OVERFLOW_END,
                    b + " straddles 0xF0000");
            if (i > 0) {
                assertTrue(sorted.get(i - 1).end() <= b.guestPhysicalAddress(), sorted.get(i - 1) + " overlaps " + b);
            }
        }
    }
}
