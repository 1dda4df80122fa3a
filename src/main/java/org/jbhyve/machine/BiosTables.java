package org.jbhyve.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.acpi.AcpiTables;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.TableBlob;
import org.jbhyve.machine.mptable.MpTable;
import org.jbhyve.machine.smbios.SmbiosTables;

/**
 * Where the firmware tables go in the BIOS area when a kernel boots without firmware.
 *
 * <p>bhyve's fixed addresses, which a machine of ordinary size keeps byte for byte:
 * <pre>
 * 0xF0000  MP floating pointer, then the configuration table (4 KiB; not with -Y)
 * 0xF1000  SMBIOS entry point, then the structure table (up to 0xF2400)
 * 0xF2400  ACPI: the RSDP, then RSDT, XSDT, MADT, FADT, ... (up to 1 MiB)
 * </pre>
 * Guests find the MP floating pointer, the SMBIOS entry point and the RSDP by scanning the BIOS
 * area (and the boot protocols pass the RSDP's address), so those three never move. What they
 * point to may lie anywhere: a table that outgrows its slot (the MP table beyond about 150 CPUs,
 * SMBIOS beyond about 67 sockets, since it has one processor structure per socket, the ACPI
 * tables with a MADT of thousands of processors) moves to the overflow area
 * {@code [0xC0000, 0xF0000)}: RAM below 1 MiB that the memory map hands no one (E820Map leaves
 * [0xA0000, 1 MiB) out) and that, without firmware, holds no option ROM or VGA BIOS either.
 *
 * <p>The MP table describes processors by 8-bit APIC ids. A topology whose ids do not fit (255
 * vCPUs and more) gets no MP table, as with {@code -Y}, and a notice says so; the MADT then
 * carries x2APIC entries for the ids above 254.
 */
final class BiosTables {
    static final long OVERFLOW_BASE = 0xC0000;
    static final long OVERFLOW_END = MpTable.BASE;
    private static final long ALIGN = 0x1000;

    /**
     * The tables and where they go.
     *
     * @param rsdp the RSDP's address, 0 without ACPI
     * @param notices one line each (without the program name) about what was left out
     */
    record Layout(List<TableBlob> blobs, long rsdp, List<String> notices) {}

    private BiosTables() {}

    /**
     * @param mpTable whether the MP table is wanted (not {@code -Y})
     * @param acpi whether the ACPI tables are wanted ({@code -A})
     */
    static Layout build(PlatformDescription p, boolean mpTable, boolean acpi, Map<String, String> smbios,
                        String hostName) {
        List<TableBlob> blobs = new ArrayList<>();
        List<String> notices = new ArrayList<>();
        if (mpTable && !MpTable.canDescribe(p)) {
            notices.add("the MP table holds 8-bit APIC ids, which " + p.vcpus() + " vCPUs (APIC ids up to "
                    + p.topology().maxApicId() + ") outgrow: leaving it out, as -Y does; the guest finds the"
                    + " processors in the ACPI tables (-A)");
        } else if (mpTable && MpTable.length(p) <= MpTable.MAX_LENGTH) {
            blobs.add(MpTable.build(p));
        } else if (mpTable) {
            blobs.addAll(MpTable.build(p, MpTable.BASE, next(blobs)));
        }
        blobs.addAll(SmbiosTables.place(p, smbios, hostName, next(blobs)));
        long rsdp = 0;
        if (acpi) {
            AcpiTables.Result r = AcpiTables.place(p, next(blobs));
            blobs.addAll(r.blobs());
            rsdp = r.rsdpAddress();
        }
        check(blobs);
        return new Layout(List.copyOf(blobs), rsdp, List.copyOf(notices));
    }

    /** The first free, aligned address of the overflow area after the blobs placed there so far. */
    private static long next(List<TableBlob> placed) {
        long end = OVERFLOW_BASE;
        for (TableBlob b : placed) {
            if (b.guestPhysicalAddress() < OVERFLOW_END) {
                end = Math.max(end, b.end());
            }
        }
        return (end + ALIGN - 1) & -ALIGN;
    }

    /** Every table inside the BIOS area, the moved ones inside the overflow area, none overlapping. */
    private static void check(List<TableBlob> blobs) {
        List<TableBlob> sorted = blobs.stream()
                .sorted((a, b) -> Long.compare(a.guestPhysicalAddress(), b.guestPhysicalAddress())).toList();
        for (int i = 0; i < sorted.size(); i++) {
            TableBlob b = sorted.get(i);
            boolean inOverflow = b.guestPhysicalAddress() >= OVERFLOW_BASE && b.end() <= OVERFLOW_END;
            boolean inBios = b.guestPhysicalAddress() >= OVERFLOW_END && b.end() <= AcpiTables.LIMIT;
            if (!inOverflow && !inBios) {
                throw new MachineException("the firmware tables do not fit below 1 MiB (" + b + "); this many"
                        + " vCPUs need -l bootrom firmware, which places the tables itself");
            }
            if (i > 0 && sorted.get(i - 1).end() > b.guestPhysicalAddress()) {
                throw new IllegalStateException("firmware tables overlap: " + sorted.get(i - 1) + " " + b);
            }
        }
    }
}
