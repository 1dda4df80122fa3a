package org.jbhyve.machine.acpi;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the ACPI tables ({@code -A}) at bhyve's addresses. bhyve puts them in the BIOS
 * area below 1 MiB, after the MP table (0xF0000) and SMBIOS (0xF1000), from
 * {@link #BHYVE_ACPI_BASE}, at fixed offsets:
 *
 * <pre>
 * +0x000  RSDP (36)
 * +0x040  RSDT
 * +0x080  XSDT
 * +0x100  MADT, its slot rounded up to 0x100 bytes
 *   then  FADT (slot 0x140), HPET (slot 0x40), MCFG (slot 0x40), FACS (slot 0x40, so
 *         64-byte aligned), DSDT (to the end, below 1 MiB)
 * </pre>
 *
 * The HPET slot stays reserved when there is no HPET so the other tables do not move.
 * RSDT and XSDT list FADT first (as UEFI asks), then MADT, HPET, MCFG.
 */
public final class AcpiTables {
    private AcpiTables() {}

    public static final long BHYVE_ACPI_BASE = 0xF2400;
    public static final long LIMIT = 0x10_0000;
    static final int RSDT_OFFSET = 0x40, XSDT_OFFSET = 0x80, MADT_OFFSET = 0x100;
    static final int FADT_SLOT = 0x140, HPET_SLOT = 0x40, MCFG_SLOT = 0x40, FACS_SLOT = 0x40;

    /** The tables and where the guest finds the RSDP. */
    public record Result(long rsdpAddress, List<TableBlob> blobs) {
        public Result {
            blobs = List.copyOf(blobs);
        }

        public TableBlob blob(String name) {
            return blobs.stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow();
        }
    }

    public static Result build(PlatformDescription p) {
        return build(p, BHYVE_ACPI_BASE);
    }

    public static Result build(PlatformDescription p, long base) {
        Result r = layout(p, base);
        checkLayout(r.blobs(), base);
        return r;
    }

    /**
     * The RSDP at {@link #BHYVE_ACPI_BASE}, where guests scan for it and the boot protocols point;
     * the other tables after it as bhyve places them when they fit below 1 MiB, otherwise (a MADT
     * of thousands of processors) from {@code overflowAddress} (64-byte aligned), where the RSDP's
     * pointers lead. The RSDP holds no address of its own, so it is the same bytes either way.
     */
    public static Result place(PlatformDescription p, long overflowAddress) {
        Result r = layout(p, BHYVE_ACPI_BASE);
        if (r.blobs().stream().mapToLong(TableBlob::end).max().orElse(0) <= LIMIT) {
            checkLayout(r.blobs(), BHYVE_ACPI_BASE);
            return r;
        }
        if (overflowAddress % 64 != 0) {
            throw new IllegalArgumentException("the FACS must stay 64-byte aligned");
        }
        Result moved = layout(p, overflowAddress);
        List<TableBlob> blobs = new ArrayList<>(moved.blobs());
        blobs.set(0, new TableBlob("RSDP", BHYVE_ACPI_BASE, moved.blob("RSDP").bytes()));
        checkLayout(blobs.subList(1, blobs.size()), overflowAddress);
        return new Result(BHYVE_ACPI_BASE, blobs);
    }

    private static Result layout(PlatformDescription p, long base) {
        if (base % 16 != 0) {
            throw new IllegalArgumentException("the RSDP is found on 16-byte boundaries");
        }
        byte[] madt = Madt.build(p);
        long madtAddr = base + MADT_OFFSET;
        long fadtAddr = madtAddr + roundUp(madt.length, 0x100);
        long hpetAddr = fadtAddr + FADT_SLOT;
        long mcfgAddr = hpetAddr + HPET_SLOT;
        long facsAddr = mcfgAddr + MCFG_SLOT;
        long dsdtAddr = facsAddr + FACS_SLOT;

        boolean i8042 = p.isaDevices().stream().anyMatch(d -> d.hid().equals("PNP0303"));
        byte[] fadt = Fadt.build(facsAddr, dsdtAddr, i8042);
        byte[] dsdt = Dsdt.build(p);

        List<Long> entries = new ArrayList<>(List.of(fadtAddr, madtAddr));
        if (p.hpet()) {
            entries.add(hpetAddr);
        }
        if (p.ecamBase() != 0) {
            entries.add(mcfgAddr);
        }
        List<TableBlob> blobs = new ArrayList<>();
        blobs.add(new TableBlob("RSDP", base, Rsdp.build(base + RSDT_OFFSET, base + XSDT_OFFSET)));
        blobs.add(new TableBlob("RSDT", base + RSDT_OFFSET, Rsdt.build(entries)));
        blobs.add(new TableBlob("XSDT", base + XSDT_OFFSET, Xsdt.build(entries)));
        blobs.add(new TableBlob("APIC", madtAddr, madt));
        blobs.add(new TableBlob("FACP", fadtAddr, fadt));
        if (p.hpet()) {
            blobs.add(new TableBlob("HPET", hpetAddr,
                    Hpet.build(p.hpetBlockId(), PlatformDescription.HPET_ADDRESS)));
        }
        if (p.ecamBase() != 0) {
            blobs.add(new TableBlob("MCFG", mcfgAddr, Mcfg.build(p.ecamBase(), 0, 0, p.ecamBuses() - 1)));
        }
        blobs.add(new TableBlob("FACS", facsAddr, Facs.build()));
        blobs.add(new TableBlob("DSDT", dsdtAddr, dsdt));
        return new Result(base, blobs);
    }

    private static void checkLayout(List<TableBlob> blobs, long base) {
        if (blobs.getLast().end() > Math.max(LIMIT, base) && base < LIMIT) {
            throw new IllegalStateException("ACPI tables overflow the BIOS area: end 0x"
                    + Long.toHexString(blobs.getLast().end()));
        }
        for (int i = 1; i < blobs.size(); i++) {
            if (blobs.get(i - 1).end() > blobs.get(i).guestPhysicalAddress()) {
                throw new IllegalStateException("overlap: " + blobs.get(i - 1) + " " + blobs.get(i));
            }
        }
    }

    static long roundUp(long v, long a) {
        return (v + a - 1) / a * a;
    }
}
