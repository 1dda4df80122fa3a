package org.jbhyve.machine.acpi;

/**
 * Root System Description Pointer, revision 2 (36 bytes), found by the guest scanning
 * 0xE0000-0xFFFFF on 16-byte boundaries:
 *
 * <pre>
 *  0 "RSD PTR "   8 Checksum (bytes 0-19)   9 OEMID[6]   15 Revision (2)
 * 16 RsdtAddress 20 Length (36)            24 XsdtAddress (8)
 * 32 Extended checksum (all 36 bytes)      33 Reserved[3]
 * </pre>
 */
public final class Rsdp {
    private Rsdp() {}

    public static final int SIZE = 36;

    public static byte[] build(long rsdtAddress, long xsdtAddress) {
        LeBuffer b = new LeBuffer();
        b.ascii("RSD PTR ", 8, ' ').u8(0).ascii(SdtHeader.OEM_ID, 6, ' ').u8(2)
                .u32(rsdtAddress).u32(SIZE).u64(xsdtAddress).u8(0).zeros(3);
        b.fixChecksum(0, 20, 8);
        b.fixChecksum(0, SIZE, 32);
        return b.toByteArray();
    }
}
