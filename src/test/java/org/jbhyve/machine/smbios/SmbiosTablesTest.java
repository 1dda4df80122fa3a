package org.jbhyve.machine.smbios;

import static org.jbhyve.machine.acpi.TestPlatforms.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jbhyve.machine.acpi.LeBuffer;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.TableBlob;
import org.jbhyve.machine.acpi.TestPlatforms;
import org.junit.jupiter.api.Test;

class SmbiosTablesTest {

    /** A parsed structure: type, handle, formatted area and strings. */
    record Struct(int type, int handle, byte[] formatted, List<String> strings) {
        String string(int fieldOffset) {
            int idx = formatted[fieldOffset] & 0xFF;
            return idx == 0 ? null : strings.get(idx - 1);
        }
    }

    static List<Struct> parse(byte[] b, int off, int len) {
        List<Struct> list = new ArrayList<>();
        int end = off + len;
        while (off < end) {
            int flen = b[off + 1] & 0xFF;
            byte[] f = java.util.Arrays.copyOfRange(b, off, off + flen);
            int p = off + flen;
            List<String> strings = new ArrayList<>();
            if (b[p] == 0) {
                assertEquals(0, b[p + 1], "empty string set is a double NUL");
                p += 2;
            } else {
                while (b[p] != 0) {
                    int s = p;
                    while (b[p] != 0) {
                        p++;
                    }
                    strings.add(new String(b, s, p - s, StandardCharsets.US_ASCII));
                    p++;
                }
                p++;
            }
            list.add(new Struct(f[0] & 0xFF, u16(f, 2), f, strings));
            off = p;
        }
        assertEquals(end, off);
        return list;
    }

    final PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
    final UUID uuid = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    final TableBlob blob = SmbiosTables.build(p.withUuid(uuid), Map.of(), "host");
    final byte[] t = blob.bytes();

    List<Struct> structs() {
        return parse(t, (int) (u32(t, 0x18) - SmbiosTables.BASE), u16(t, 0x16));
    }

    @Test
    void entryPoint() {
        assertEquals(0xF1000, blob.guestPhysicalAddress());
        assertEquals("_SM_", ascii(t, 0, 4));
        assertEquals(0x1F, u8(t, 5));
        assertEquals(2, u8(t, 6));
        assertEquals(6, u8(t, 7));
        assertEquals("_DMI_", ascii(t, 0x10, 5));
        assertEquals(0, LeBuffer.sum8(t, 0, 0x1F));
        assertEquals(0, LeBuffer.sum8(t, 0x10, 0x1F));
        assertEquals(0xF101F, u32(t, 0x18));
        assertEquals(t.length - 0x1F, u16(t, 0x16));
        assertEquals(structs().size(), u16(t, 0x1C));
        assertEquals(0x26, u8(t, 0x1E));
        assertTrue(blob.end() <= 0xF2400);
        int max = 0;
        for (Struct s : structs()) {
            max = Math.max(max, s.formatted.length);
        }
        assertTrue(u16(t, 8) >= max);
    }

    @Test
    void structureTypesHandlesAndLengths() {
        List<Struct> s = structs();
        // 2 sockets -> two type 4; 3G low + 3G high -> two type 19
        assertEquals(List.of(0, 1, 2, 3, 4, 4, 16, 17, 19, 19, 32, 127), s.stream().map(Struct::type).toList());
        for (int i = 0; i < s.size(); i++) {
            assertEquals(i + 1, s.get(i).handle());
        }
        Map<Integer, Integer> lengths = Map.of(0, 0x18, 1, 0x1B, 2, 0x0F, 3, 0x16, 4, 0x2A, 16, 0x17,
                17, 0x28, 19, 0x1F, 32, 0x0B, 127, 4);
        for (Struct x : s) {
            assertEquals(lengths.get(x.type()), x.formatted.length, "type " + x.type());
        }
    }

    @Test
    void defaultStrings() {
        List<Struct> s = structs();
        Struct t0 = s.get(0);
        assertEquals("BHYVE", t0.string(4));
        assertEquals("14.0", t0.string(5));
        assertEquals("10/17/2021", t0.string(8));
        assertEquals(0xF000, u16(t0.formatted, 6));
        Struct t1 = s.get(1);
        assertEquals("FreeBSD", t1.string(4));
        assertEquals("BHYVE", t1.string(5));
        assertEquals("1.0", t1.string(6));
        assertEquals("None", t1.string(7));
        assertEquals(6, u8(t1.formatted, 0x18), "wake-up: power switch");
        assertEquals("None", t1.string(0x19));
        assertEquals("Virtual Machine", t1.string(0x1A));
        Struct t2 = s.get(2);
        assertEquals(s.get(3).handle(), u16(t2.formatted, 0x0B), "board's chassis handle");
        Struct cpu1 = s.get(5);
        assertEquals("CPU #1", cpu1.string(4));
        assertEquals(2, u8(cpu1.formatted, 0x23), "cores");
        assertEquals(2, u8(cpu1.formatted, 0x25), "threads per socket");
    }

    @Test
    void configOverrides() {
        byte[] b = SmbiosTables.build(p, Map.of("system.product_name", "Box", "bios.vendor", "Acme",
                "chassis.sku", "X1", "board.location", "slot 0", "unrelated.key", "x"), "host").bytes();
        List<Struct> s = parse(b, 0x1F, u16(b, 0x16));
        assertEquals("Acme", s.get(0).string(4));
        assertEquals("Box", s.get(1).string(5));
        assertEquals("slot 0", s.get(2).string(0x0A));
        assertEquals("X1", s.get(3).string(0x15));
    }

    @Test
    void uuidInSmbiosByteOrder() {
        byte[] u = java.util.Arrays.copyOfRange(structs().get(1).formatted, 8, 24);
        assertEquals("33221100554477668899aabbccddeeff", HexFormat.of().formatHex(u));
        assertEquals(uuid, SmbiosTables.fromSmbiosBytes(u));
    }

    @Test
    void defaultUuidIsBhyvesMd5() throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        md5.update("vm1".getBytes());
        byte[] host = new byte[256];
        System.arraycopy("host.example".getBytes(), 0, host, 0, 12);
        byte[] d = md5.digest(host);
        d[6] = (byte) (d[6] & 0x0F | 0x30);
        d[8] = (byte) (d[8] & 0x3F | 0x80);
        UUID u = SmbiosTables.defaultUuid("host.example", "vm1");
        assertArrayEquals(d, SmbiosTables.uuidBytes(u));
        assertEquals(u, SmbiosTables.defaultUuid("host.example", "vm1"), "stable");
        assertNotEquals(u, SmbiosTables.defaultUuid("host.example", "vm2"));
        byte[] b = SmbiosTables.build(p, Map.of(), "host.example").bytes();
        List<Struct> s = parse(b, 0x1F, u16(b, 0x16));
        assertArrayEquals(d, java.util.Arrays.copyOfRange(s.get(1).formatted, 8, 24));
    }

    @Test
    void memoryStructures() {
        List<Struct> s = structs();
        Struct t16 = s.get(6);
        assertEquals(6L << 20, u32(t16.formatted, 7), "capacity in KiB");
        Struct t17 = s.get(7);
        assertEquals(t16.handle(), u16(t17.formatted, 4));
        assertEquals(6 * 1024, u16(t17.formatted, 0x0C), "size in MiB");
        Struct low = s.get(8);
        assertEquals(0, u32(low.formatted, 4));
        assertEquals((3L << 20) - 1, u32(low.formatted, 8));
        assertEquals(t16.handle(), u16(low.formatted, 0x0C));
        Struct high = s.get(9);
        assertEquals(4L << 20, u32(high.formatted, 4));
        assertEquals((7L << 20) - 1, u32(high.formatted, 8));
    }

    @Test
    void smbios3EntryPoint() {
        byte[] b = SmbiosTables.build(p, Map.of(), "h", true).bytes();
        int ep3 = -1;
        for (int off = 0; off + 5 <= b.length; off += 16) {
            if (ascii(b, off, 5).equals("_SM3_")) {
                ep3 = off;
            }
        }
        assertTrue(ep3 > 0);
        assertEquals(0x18, u8(b, ep3 + 6));
        assertEquals(3, u8(b, ep3 + 7));
        assertEquals(0, LeBuffer.sum8(b, ep3, ep3 + 0x18));
        assertEquals(0xF101F, u64(b, ep3 + 16));
        assertEquals(u16(b, 0x16), u32(b, ep3 + 12));
        assertEquals(0, LeBuffer.sum8(b, 0, 0x1F));
    }
}
