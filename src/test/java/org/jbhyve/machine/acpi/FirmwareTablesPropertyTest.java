package org.jbhyve.machine.acpi;

import static org.jbhyve.machine.acpi.TestPlatforms.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.jbhyve.machine.mptable.MpTable;
import org.jbhyve.machine.smbios.SmbiosTables;

/** Invariants of all firmware tables over random topologies and memory sizes. */
class FirmwareTablesPropertyTest {

    static PlatformDescription platform(int sockets, int cores, int threads, boolean x2apic,
            boolean hpet, int lowMiB, int highMiB, int slots) {
        List<Integer> s = java.util.stream.IntStream.range(3, 3 + slots).boxed().toList();
        return PlatformDescription.bhyveDefaults(new CpuTopology(sockets, cores, threads),
                (long) lowMiB << 20, (long) highMiB << 20, s, "vm").withX2apic(x2apic).withHpet(hpet);
    }

    @Property(tries = 200)
    void everyTableChecksums(@ForAll @IntRange(min = 1, max = 4) int sockets,
            @ForAll @IntRange(min = 1, max = 6) int cores, @ForAll @IntRange(min = 1, max = 2) int threads,
            @ForAll boolean x2apic, @ForAll boolean hpet,
            @ForAll @IntRange(min = 1, max = 3072) int lowMiB, @ForAll @IntRange(min = 0, max = 65536) int highMiB,
            @ForAll @IntRange(min = 0, max = 28) int slots) {
        PlatformDescription p = platform(sockets, cores, threads, x2apic, hpet, lowMiB, highMiB, slots);
        AcpiTables.Result r = AcpiTables.build(p);
        long prevEnd = 0;
        for (TableBlob b : r.blobs()) {
            byte[] t = b.bytes();
            assertTrue(b.guestPhysicalAddress() >= prevEnd, "no overlap");
            prevEnd = b.end();
            if (b.name().equals("RSDP")) {
                assertEquals(0, LeBuffer.sum8(t, 0, 20));
                assertEquals(0, LeBuffer.sum8(t, 0, 36));
            } else if (!b.name().equals("FACS")) {
                assertEquals(t.length, u32(t, 4));
                assertEquals(0, LeBuffer.sum8(t, 0, t.length), b.name());
            }
        }
        assertTrue(prevEnd <= 0x100000);

        byte[] m = r.blob("APIC").bytes();
        Set<Long> ids = new HashSet<>();
        int processors = 0;
        for (int off = 44; off < m.length; off += u8(m, off + 1)) {
            int type = u8(m, off);
            if (type == 0) {
                ids.add((long) u8(m, off + 3));
                processors++;
            } else if (type == 9) {
                ids.add(u32(m, off + 4));
                processors++;
            }
        }
        assertEquals(p.vcpus(), processors);
        assertEquals(p.vcpus(), ids.size(), "distinct APIC ids");
        assertFalse(ids.contains((long) p.topology().ioApicId()));

        byte[] mp = MpTable.build(p).bytes();
        assertEquals(0, LeBuffer.sum8(mp, 0, 16));
        assertEquals(0, LeBuffer.sum8(mp, 16, 16 + u16(mp, 20)));
        assertEquals(p.vcpus() + 2 + 1 + 16 + p.pciRoutes().size() + 2, u16(mp, 16 + 34));

        byte[] sm = SmbiosTables.build(p, Map.of(), "host", true).bytes();
        assertEquals(0, LeBuffer.sum8(sm, 0, 0x1F));
        assertEquals(0, LeBuffer.sum8(sm, 0x10, 0x1F));
        int ep3 = (0x1F + u16(sm, 0x16) + 15) & ~15;
        assertEquals("_SM3_", ascii(sm, ep3, 5));
        assertEquals(ep3 + 0x18, sm.length);
        assertEquals(0, LeBuffer.sum8(sm, ep3, ep3 + 0x18));
    }
}
