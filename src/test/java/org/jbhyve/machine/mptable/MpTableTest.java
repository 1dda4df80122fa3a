package org.jbhyve.machine.mptable;

import static org.jbhyve.machine.acpi.TestPlatforms.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.machine.acpi.LeBuffer;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.TableBlob;
import org.jbhyve.machine.acpi.TestPlatforms;
import org.junit.jupiter.api.Test;

class MpTableTest {

    final PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
    final TableBlob blob = MpTable.build(p);
    final byte[] t = blob.bytes();

    @Test
    void floatingPointer() {
        assertEquals(0xF0000, blob.guestPhysicalAddress());
        assertEquals("_MP_", ascii(t, 0, 4));
        assertEquals(0xF0010, u32(t, 4));
        assertEquals(1, u8(t, 8));
        assertEquals(4, u8(t, 9));
        assertEquals(0, LeBuffer.sum8(t, 0, 16));
        for (int i = 11; i < 16; i++) {
            assertEquals(0, t[i], "feature byte " + (i - 10));
        }
    }

    @Test
    void configurationHeader() {
        assertEquals("PCMP", ascii(t, 16, 4));
        int len = u16(t, 20);
        assertEquals(t.length - 16, len);
        assertEquals(4, u8(t, 22));
        assertEquals(0, LeBuffer.sum8(t, 16, 16 + len));
        assertEquals("BHyVe   ", ascii(t, 24, 8));
        assertEquals("Hypervisor  ", ascii(t, 32, 12));
        assertEquals(0xFEE00000L, u32(t, 16 + 36));
        assertEquals(0, u16(t, 16 + 40), "no extended table");
    }

    @Test
    void entryCountsAndOrder() {
        List<Integer> types = MpTable.entryTypes(t);
        // 4 processors, 2 buses, 1 I/O APIC, 16 ISA + 8 PCI I/O interrupts, 2 local
        assertEquals(4 + 2 + 1 + 24 + 2, types.size());
        assertEquals(4, Collections.frequency(types, MpTable.ENTRY_PROCESSOR));
        assertEquals(2, Collections.frequency(types, MpTable.ENTRY_BUS));
        assertEquals(1, Collections.frequency(types, MpTable.ENTRY_IOAPIC));
        assertEquals(24, Collections.frequency(types, MpTable.ENTRY_IO_INT));
        assertEquals(2, Collections.frequency(types, MpTable.ENTRY_LOCAL_INT));
        List<Integer> sorted = new ArrayList<>(types);
        Collections.sort(sorted);
        assertEquals(sorted, types, "entries are ordered by type");
    }

    @Test
    void processorsBusesAndIoApic() {
        int off = 60;
        for (int cpu = 0; cpu < 4; cpu++, off += 20) {
            assertEquals(cpu, u8(t, off + 1), "APIC id");
            assertEquals(cpu == 0 ? 3 : 1, u8(t, off + 3), "enabled, BSP");
        }
        assertEquals("PCI   ", ascii(t, off + 2, 6));
        assertEquals(0, u8(t, off + 1));
        assertEquals("ISA   ", ascii(t, off + 10, 6));
        assertEquals(1, u8(t, off + 9));
        off += 16;
        assertEquals(2, u8(t, off));
        assertEquals(4, u8(t, off + 1), "I/O APIC id = vCPU count");
        assertEquals(1, u8(t, off + 3));
        assertEquals(0xFEC00000L, u32(t, off + 4));
        off += 8;
        // ISA pin 0 ExtINT, IRQ 0 on pin 2, SCI level
        assertEquals(3, u8(t, off + 1));
        assertEquals(0, u8(t, off + 5));
        assertEquals(0, u8(t, off + 16 + 5), "IRQ 0 on pin 2");
        assertEquals(2, u8(t, off + 16 + 7));
        assertEquals(0xD, u16(t, off + 9 * 8 + 2));
        // first PCI route: slot 3 INTA -> pin 16
        int pci = off + 16 * 8;
        assertEquals(0, u8(t, pci + 4), "PCI bus id");
        assertEquals(3 << 2, u8(t, pci + 5));
        assertEquals(16, u8(t, pci + 7));
        int local = pci + 8 * 8;
        assertEquals(4, u8(t, local));
        assertEquals(3, u8(t, local + 1));
        assertEquals(0xFF, u8(t, local + 6));
        assertEquals(1, u8(t, local + 8 + 1), "NMI");
        assertEquals(1, u8(t, local + 8 + 7), "LINT1");
    }

    @Test
    void gappedTopology() {
        byte[] m = MpTable.build(TestPlatforms.of(new CpuTopology(2, 3, 1))).bytes();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(u8(m, 60 + 20 * i + 1));
        }
        assertEquals(List.of(0, 1, 2, 4, 5, 6), ids);
        assertEquals(0, LeBuffer.sum8(m, 16, 16 + u16(m, 20)));
    }

    @Test
    void refusesWhatItCannotDescribe() {
        assertThrows(IllegalArgumentException.class,
                () -> MpTable.build(TestPlatforms.of(new CpuTopology(1, 256, 1))));
    }
}
