package org.jbhyve.machine.acpi;

/**
 * Firmware ACPI Control Structure (64 bytes, 64-byte aligned, no checksum):
 *
 * <pre>
 *  0 "FACS"  4 Length (64)  8 Hardware signature  12 Firmware waking vector
 * 16 Global lock  20 Flags  24 X firmware waking vector (8)  32 Version (2)
 * 33 Reserved[3]  36 OSPM flags  40 Reserved[24]
 * </pre>
 */
public final class Facs {
    private Facs() {}

    public static final int SIZE = 64;

    public static byte[] build() {
        LeBuffer b = new LeBuffer();
        b.ascii("FACS", 4, ' ').u32(SIZE).u32(0).u32(0).u32(0).u32(0).u64(0).u8(2).zeros(3)
                .u32(0).zeros(24);
        return b.toByteArray();
    }
}
