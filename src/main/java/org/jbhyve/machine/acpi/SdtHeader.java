package org.jbhyve.machine.acpi;

/**
 * The 36-byte System Description Table header every ACPI table but RSDP and FACS begins
 * with:
 *
 * <pre>
 *  0  Signature[4]     4  Length (whole table)   8  Revision   9  Checksum (table sums to 0)
 * 10  OEMID[6]        16  OEM Table ID[8]       24  OEM Revision
 * 28  Creator ID[4]   32  Creator Revision
 * </pre>
 *
 * Identification follows bhyve: OEM id {@code "BHYVE "}, table id {@code "BV" + signature}
 * padded with spaces ({@code "BVXSDT  "}), OEM revision 1, creator {@code "BASL"} with
 * bhyve's table builder revision.
 */
public final class SdtHeader {
    private SdtHeader() {}

    public static final int SIZE = 36;
    public static final String OEM_ID = "BHYVE ";
    public static final int OEM_REVISION = 1;
    public static final String CREATOR_ID = "BASL";
    public static final int CREATOR_REVISION = 0x2022_0504;

    /** Starts a table: writes the header with length and checksum to be fixed by {@link #finish}. */
    public static LeBuffer begin(String signature, int revision) {
        LeBuffer b = new LeBuffer();
        b.ascii(signature, 4, ' ').u32(0).u8(revision).u8(0)
                .ascii(OEM_ID, 6, ' ').ascii("BV" + signature, 8, ' ').u32(OEM_REVISION)
                .ascii(CREATOR_ID, 4, ' ').u32(CREATOR_REVISION);
        return b;
    }

    /** Stores the length and the checksum; returns the finished table. */
    public static byte[] finish(LeBuffer b) {
        b.putU32(4, b.size());
        b.fixChecksum(0, b.size(), 9);
        return b.toByteArray();
    }

    /**
     * Appends a 12-byte Generic Address Structure: address space (0 memory, 1 I/O), register
     * bit width, bit offset, access size (0 undefined, 1 byte, 2 word, 3 dword, 4 qword),
     * 64-bit address.
     */
    public static void gas(LeBuffer b, int space, int bitWidth, int bitOffset, int accessSize, long address) {
        b.u8(space).u8(bitWidth).u8(bitOffset).u8(accessSize).u64(address);
    }

    public static final int GAS_SYSTEM_MEMORY = 0;
    public static final int GAS_SYSTEM_IO = 1;
}
