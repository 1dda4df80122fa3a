package org.jbhyve.machine.acpi;

import static org.jbhyve.machine.acpi.TestPlatforms.u32;
import static org.jbhyve.machine.acpi.TestPlatforms.u8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the etc/table-loader script the way SeaBIOS's romfile_loader does (allocate, add the
 * source file's address to each pointer, set each checksum byte so the range sums to zero) and
 * checks the result is byte for byte the tables jbhyve builds for that address directly.
 */
class FirmwareAcpiFilesTest {
    private static final long TABLES_AT = 0x7FE_0000L;
    private static final long RSDP_AT = 0xF5A10L;

    /** The loaded files by name, after the script ran, with where each was allocated. */
    private record Loaded(Map<String, byte[]> files, Map<String, Long> addresses) {}

    private static Loaded runLoader(FirmwareAcpiFiles.Files f) {
        Map<String, byte[]> files = new HashMap<>(Map.of(FirmwareAcpiFiles.RSDP, f.rsdp().clone(),
                FirmwareAcpiFiles.TABLES, f.tables().clone()));
        Map<String, Long> at = new HashMap<>();
        ByteBuffer script = ByteBuffer.wrap(f.loader()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, f.loader().length % TableLoader.COMMAND_SIZE);
        while (script.hasRemaining()) {
            int start = script.position();
            int command = script.getInt();
            switch (command) {
                case TableLoader.ALLOCATE -> {
                    String file = name(script);
                    int align = script.getInt();
                    int zone = script.get();
                    long address = file.equals(FirmwareAcpiFiles.RSDP) ? RSDP_AT : TABLES_AT;
                    assertEquals(0, address % align);
                    assertEquals(file.equals(FirmwareAcpiFiles.RSDP) ? TableLoader.ZONE_FSEG : TableLoader.ZONE_HIGH, zone);
                    at.put(file, address);
                }
                case TableLoader.ADD_POINTER -> {
                    String dest = name(script);
                    String src = name(script);
                    int offset = script.getInt();
                    int size = script.get();
                    assertTrue(at.containsKey(dest) && at.containsKey(src), "pointer before allocation");
                    ByteBuffer d = ByteBuffer.wrap(files.get(dest)).order(ByteOrder.LITTLE_ENDIAN);
                    if (size == 4) {
                        d.putInt(offset, (int) (d.getInt(offset) + at.get(src)));
                    } else {
                        assertEquals(8, size);
                        d.putLong(offset, d.getLong(offset) + at.get(src));
                    }
                }
                case TableLoader.ADD_CHECKSUM -> {
                    byte[] file = files.get(name(script));
                    int result = script.getInt();
                    int from = script.getInt();
                    int length = script.getInt();
                    int sum = 0;
                    for (int i = from; i < from + length; i++) {
                        sum += file[i];
                    }
                    file[result] -= (byte) sum;
                }
                default -> throw new AssertionError("unknown loader command " + command);
            }
            script.position(start + TableLoader.COMMAND_SIZE);
        }
        return new Loaded(files, at);
    }

    private static String name(ByteBuffer b) {
        byte[] n = new byte[TableLoader.NAME];
        b.get(n);
        return new String(n, StandardCharsets.US_ASCII).replace("\0", "");
    }

    @Test
    void loadedTablesEqualTheTablesBuiltForThatAddress() {
        PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
        Loaded loaded = runLoader(FirmwareAcpiFiles.build(p));
        AcpiTables.Result direct = AcpiTables.build(p, TABLES_AT);
        byte[] tables = loaded.files().get(FirmwareAcpiFiles.TABLES);
        for (TableBlob b : direct.blobs()) {
            if (b.name().equals("RSDP")) {
                continue;
            }
            int offset = (int) (b.guestPhysicalAddress() - TABLES_AT);
            byte[] got = java.util.Arrays.copyOfRange(tables, offset, offset + b.bytes().length);
            assertArrayEquals(b.bytes(), got, b.name() + " after loading");
        }
        assertArrayEquals(direct.blob("RSDP").bytes(), loaded.files().get(FirmwareAcpiFiles.RSDP),
                "the RSDP points at the loaded RSDT and XSDT, checksums valid");
    }

    @Test
    void everyPointerIsPatchedAndNothingElseMoves() {
        PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
        FirmwareAcpiFiles.Files f = FirmwareAcpiFiles.build(p);
        // RSDT/XSDT: FADT, MADT, HPET, MCFG; FADT: 4 pointers; RSDP: 2
        assertEquals(4 + 4 + 4 + 2, f.pointers().size());
        byte[] rsdp = f.rsdp();
        assertEquals(0, u8(rsdp, 8), "checksums are left to the loader");
        assertEquals(AcpiTables.RSDT_OFFSET, u32(rsdp, 16));
        assertEquals("RSDT", TestPlatforms.ascii(f.tables(), AcpiTables.RSDT_OFFSET, 4));
    }

    @Test
    void withoutHpetTheTablesStillLoad() {
        PlatformDescription p = TestPlatforms.of(new CpuTopology(1, 1, 1));
        Loaded loaded = runLoader(FirmwareAcpiFiles.build(p));
        assertArrayEquals(AcpiTables.build(p, TABLES_AT).blob("DSDT").bytes(),
                java.util.Arrays.copyOfRange(loaded.files().get(FirmwareAcpiFiles.TABLES),
                        (int) (AcpiTables.build(p, TABLES_AT).blob("DSDT").guestPhysicalAddress() - TABLES_AT),
                        loaded.files().get(FirmwareAcpiFiles.TABLES).length));
    }
}
