package org.jbhyve.machine.acpi;

import java.util.ArrayList;
import java.util.List;

/**
 * The ACPI tables of {@link AcpiTables} as fw_cfg files for firmware that installs them itself
 * (SeaBIOS, OVMF): {@code etc/acpi/rsdp}, {@code etc/acpi/tables} and the
 * {@link TableLoader} script {@code etc/table-loader}.
 *
 * <p>The tables are laid out as for base address 0, so every pointer between them already holds
 * an offset into the tables file (the RSDP's slot at offset 0 of that file stays zero). The
 * script allocates the tables anywhere (64-byte alignment keeps the FACS aligned) and the RSDP
 * in the F segment where guests scan for it, patches each pointer (RSDP to RSDT/XSDT, RSDT/XSDT
 * entries, FADT to FACS/DSDT in both widths) and recomputes each checksum, zeroed here.
 */
public final class FirmwareAcpiFiles {
    public static final String RSDP = "etc/acpi/rsdp", TABLES = "etc/acpi/tables", LOADER = "etc/table-loader";
    private static final int TABLES_ALIGN = 64, RSDP_ALIGN = 16, SDT_CHECKSUM = 9;

    /** One pointer the script patches: {@code size} bytes at {@code offset} of {@code file}. */
    public record Pointer(String file, int offset, int size) {}

    public record Files(byte[] rsdp, byte[] tables, byte[] loader, List<Pointer> pointers) {}

    private FirmwareAcpiFiles() {}

    public static Files build(PlatformDescription p) {
        AcpiTables.Result result = AcpiTables.build(p, 0);
        List<TableBlob> blobs = result.blobs();
        byte[] rsdp = result.blob("RSDP").bytes().clone();
        byte[] tables = new byte[(int) blobs.getLast().end()];
        List<Pointer> pointers = new ArrayList<>();
        pointers.add(new Pointer(RSDP, 16, 4));
        pointers.add(new Pointer(RSDP, 24, 8));
        for (TableBlob b : blobs) {
            if (b.name().equals("RSDP")) {
                continue;
            }
            int at = (int) b.guestPhysicalAddress();
            System.arraycopy(b.bytes(), 0, tables, at, b.bytes().length);
            switch (b.name()) {
                case "RSDT" -> entries(pointers, at, b.bytes().length, 4);
                case "XSDT" -> entries(pointers, at, b.bytes().length, 8);
                case "FACP" -> {
                    pointers.add(new Pointer(TABLES, at + Fadt.OFF_FACS, 4));
                    pointers.add(new Pointer(TABLES, at + Fadt.OFF_DSDT, 4));
                    pointers.add(new Pointer(TABLES, at + Fadt.OFF_X_FACS, 8));
                    pointers.add(new Pointer(TABLES, at + Fadt.OFF_X_DSDT, 8));
                }
                default -> { }
            }
        }
        TableLoader loader = new TableLoader().allocate(TABLES, TABLES_ALIGN, TableLoader.ZONE_HIGH);
        for (Pointer ptr : pointers) {
            if (ptr.file().equals(TABLES)) {
                loader.addPointer(TABLES, TABLES, ptr.offset(), ptr.size());
            }
        }
        for (TableBlob b : blobs) {
            if (!b.name().equals("RSDP") && !b.name().equals("FACS")) {
                int at = (int) b.guestPhysicalAddress();
                tables[at + SDT_CHECKSUM] = 0;
                loader.addChecksum(TABLES, at + SDT_CHECKSUM, at, b.bytes().length);
            }
        }
        rsdp[8] = 0;
        rsdp[32] = 0;
        loader.allocate(RSDP, RSDP_ALIGN, TableLoader.ZONE_FSEG)
                .addPointer(RSDP, TABLES, 16, 4)
                .addPointer(RSDP, TABLES, 24, 8)
                .addChecksum(RSDP, 8, 0, 20)
                .addChecksum(RSDP, 32, 0, Rsdp.SIZE);
        return new Files(rsdp, tables, loader.toByteArray(), List.copyOf(pointers));
    }

    private static void entries(List<Pointer> pointers, int table, int length, int width) {
        for (int o = SdtHeader.SIZE; o + width <= length; o += width) {
            pointers.add(new Pointer(TABLES, table + o, width));
        }
    }
}
