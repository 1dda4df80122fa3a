package org.jbhyve.machine.acpi;

import static org.junit.jupiter.api.Assertions.*;

import org.jbhyve.machine.acpi.Aml.FieldAccess;
import org.jbhyve.machine.acpi.Aml.FieldUnit;
import org.jbhyve.machine.acpi.Aml.FieldUpdate;
import org.junit.jupiter.api.Test;

class AmlTest {

    static byte[] b(int... v) {
        return Aml.b(v);
    }

    @Test
    void pkgLengthBoundaries() {
        assertArrayEquals(b(0x00), Aml.pkgLength(0));
        assertArrayEquals(b(0x3F), Aml.pkgLength(63));
        assertArrayEquals(b(0x40, 0x04), Aml.pkgLength(64));
        assertArrayEquals(b(0x4F, 0xFF), Aml.pkgLength(4095));
        assertArrayEquals(b(0x80, 0x00, 0x01), Aml.pkgLength(4096));
        assertArrayEquals(b(0x8F, 0xFF, 0xFF), Aml.pkgLength(0xFFFFF));
        assertArrayEquals(b(0xC0, 0x00, 0x00, 0x01), Aml.pkgLength(0x100000));
        assertArrayEquals(b(0xCF, 0xFF, 0xFF, 0xFF), Aml.pkgLength(0x0FFFFFFF));
        assertThrows(IllegalArgumentException.class, () -> Aml.pkgLength(0x10000000));
    }

    @Test
    void withPkgLengthCountsItsOwnBytes() {
        // 62-byte body + 1 = 63: one byte
        assertArrayEquals(b(0x3F), java.util.Arrays.copyOf(Aml.withPkgLength(new byte[62]), 1));
        // 63-byte body: 64 does not fit one byte, so 63 + 2 = 65 = 0x41
        byte[] e = Aml.withPkgLength(new byte[63]);
        assertEquals(65, e.length);
        assertArrayEquals(b(0x41, 0x04), java.util.Arrays.copyOf(e, 2));
        // 4093 + 2 = 4095 still two bytes; 4094 needs three: 4097
        assertArrayEquals(b(0x4F, 0xFF), java.util.Arrays.copyOf(Aml.withPkgLength(new byte[4093]), 2));
        byte[] big = Aml.withPkgLength(new byte[4094]);
        assertEquals(4097, big.length);
        assertArrayEquals(b(0x81, 0x00, 0x01), java.util.Arrays.copyOf(big, 3));
    }

    @Test
    void nameStrings() {
        assertArrayEquals("_S5_".getBytes(), Aml.nameString("_S5"));
        assertArrayEquals(b(0x5C, 0x00), Aml.nameString("\\"));
        assertArrayEquals(b(0x5C, '_', 'S', 'B', '_'), Aml.nameString("\\_SB"));
        assertArrayEquals(b(0x5C, 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'), Aml.nameString("\\_SB.PCI0"));
        assertArrayEquals(b(0x5C, 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'),
                Aml.nameString("\\_SB.PCI0.ISA"));
        assertArrayEquals(b(0x5E, 0x5E, 'F', 'O', 'O', '_'), Aml.nameString("^^FOO"));
        assertArrayEquals(b(0x5E, 0x2E, 'A', '_', '_', '_', 'B', '_', '_', '_'), Aml.nameString("^A.B"));
        assertArrayEquals(b(0x2F, 4, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_', 'D', '_', '_', '_'),
                Aml.nameString("A.B.C.D"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("TOOLONG"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("1ABC"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("a"));
    }

    @Test
    void integersUseTheSmallestEncoding() {
        assertArrayEquals(b(0x00), Aml.integer(0).bytes());
        assertArrayEquals(b(0x01), Aml.integer(1).bytes());
        assertArrayEquals(b(0xFF), Aml.integer(-1).bytes());
        assertArrayEquals(b(0x0A, 0x02), Aml.integer(2).bytes());
        assertArrayEquals(b(0x0A, 0xFF), Aml.integer(0xFF).bytes());
        assertArrayEquals(b(0x0B, 0x00, 0x01), Aml.integer(0x100).bytes());
        assertArrayEquals(b(0x0B, 0xFF, 0xFF), Aml.integer(0xFFFF).bytes());
        assertArrayEquals(b(0x0C, 0x00, 0x00, 0x01, 0x00), Aml.integer(0x10000).bytes());
        assertArrayEquals(b(0x0C, 0xFF, 0xFF, 0xFF, 0xFF), Aml.integer(0xFFFFFFFFL).bytes());
        assertArrayEquals(b(0x0E, 0, 0, 0, 0, 1, 0, 0, 0), Aml.integer(1L << 32).bytes());
        assertArrayEquals(b(0x0E, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), Aml.integer(-2).bytes());
    }

    @Test
    void stringsBuffersPackages() {
        assertArrayEquals(b(0x0D, 'h', 'i', 0), Aml.string("hi").bytes());
        assertArrayEquals(b(0x11, 0x05, 0x0A, 0x02, 0xAA, 0xBB), Aml.buffer(b(0xAA, 0xBB)).bytes());
        assertArrayEquals(b(0x12, 0x05, 0x02, 0x0A, 0x05, 0x00),
                Aml.pkg(Aml.integer(5), Aml.integer(0)).bytes());
        assertArrayEquals(b(0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00),
                Aml.name("_S5", Aml.pkg(Aml.integer(5), Aml.integer(5), Aml.integer(0), Aml.integer(0))).bytes());
    }

    @Test
    void eisaIds() {
        assertEquals(0x030AD041L, Aml.eisaIdValue("PNP0A03"));
        assertEquals(0x080AD041L, Aml.eisaIdValue("PNP0A08"));
        assertEquals(0x0105D041L, Aml.eisaIdValue("PNP0501"));
        assertEquals(0x0C0CD041L, Aml.eisaIdValue("PNP0C0C"));
        assertArrayEquals(b(0x0C, 0x41, 0xD0, 0x0A, 0x03), Aml.eisaId("PNP0A03").bytes());
    }

    @Test
    void scopesDevicesMethods() {
        assertArrayEquals(b(0x10, 0x05, '_', 'S', 'B', '_'), Aml.scope("_SB").bytes());
        assertArrayEquals(b(0x5B, 0x82, 0x05, 'P', 'W', 'R', 'B'), Aml.device("PWRB").bytes());
        assertArrayEquals(b(0x14, 0x0C, '_', 'P', 'I', 'C', 0x01, 0x70, 0x68, 'P', 'I', 'C', 'M'),
                Aml.method("_PIC", 1, false, Aml.store(Aml.arg(0), Aml.ref("PICM"))).bytes());
        assertEquals(0x0B, Aml.method("FOO", 3, true).bytes()[6]);
        assertArrayEquals(b(0xA4, 0x0A, 0x05), Aml.returnValue(Aml.integer(5)).bytes());
    }

    @Test
    void regionsAndFields() {
        assertArrayEquals(b(0x5B, 0x80, 'P', 'M', 'I', 'O', 0x01, 0x0B, 0x00, 0x04, 0x0A, 0x08),
                Aml.operationRegion("PMIO", Aml.RegionSpace.SYSTEM_IO, 0x400, 8).bytes());
        assertArrayEquals(b(0x5B, 0x81, 0x12, 'P', 'M', 'I', 'O', 0x02,
                        'P', 'M', '1', 'S', 0x10, 0x00, 0x08, 'P', 'M', '1', 'C', 0x10),
                Aml.field("PMIO", FieldAccess.WORD, false, FieldUpdate.PRESERVE,
                        FieldUnit.of("PM1S", 16), FieldUnit.skip(8), FieldUnit.of("PM1C", 16)).bytes());
    }

    @Test
    void resourceDescriptors() {
        assertArrayEquals(b(0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08), Aml.io(0x3F8, 0x3F8, 1, 8));
        assertArrayEquals(b(0x22, 0x10, 0x00), Aml.irqNoFlags(4));
        assertArrayEquals(b(0x22, 0x00, 0x01), Aml.irqNoFlags(8));
        assertArrayEquals(b(0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xD0, 0xFE, 0x00, 0x04, 0x00, 0x00),
                Aml.memory32Fixed(true, 0xFED00000L, 0x400));
        byte[] bus = Aml.wordBusNumber(0, 0xFF);
        assertEquals(16, bus.length);
        assertArrayEquals(b(0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00), java.util.Arrays.copyOf(bus, 6));
        assertEquals(0x100, TestPlatforms.u16(bus, 14));
        byte[] wio = Aml.wordIo(0x0D00, 0xFFFF);
        assertEquals(0x01, wio[3]);
        assertEquals(0x03, wio[5]);
        assertEquals(0xF300, TestPlatforms.u16(wio, 14));
        byte[] dw = Aml.dwordMemory(0xC0000000L, 0xDFFFFFFFL);
        assertEquals(26, dw.length);
        assertEquals(0x87, dw[0] & 0xFF);
        assertEquals(0x20000000L, TestPlatforms.u32(dw, 22));
        byte[] qw = Aml.qwordMemory(0x800000000L, 0xFFFFFFFFFL);
        assertEquals(46, qw.length);
        assertEquals(0x8A, qw[0] & 0xFF);
        assertEquals(0x800000000L, TestPlatforms.u64(qw, 38));
    }

    @Test
    void resourceTemplateEndsWithChecksummedEndTag() {
        byte[] t = Aml.resourceTemplate(Aml.io(0x70, 0x70, 1, 2), Aml.irqNoFlags(8)).bytes();
        // Buffer: 0x11 PkgLength size(0x0A 13) then 13 descriptor bytes
        assertEquals(0x11, t[0]);
        assertEquals(13, t[3]);
        int start = t.length - 13;
        assertEquals(0x79, t[t.length - 2] & 0xFF);
        assertEquals(0, LeBuffer.sum8(t, start, t.length));
    }
}
