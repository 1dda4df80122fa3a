package org.jbhyve.machine.acpi;

import java.util.List;

/** Platforms shared by the firmware table tests. */
public final class TestPlatforms {
    private TestPlatforms() {}

    /** {@code -c 4,sockets=2,cores=2 -m 6G}, devices in slots 3 and 4, COM1, COM2, RTC, HPET. */
    public static PlatformDescription twoSocketsTwoCores() {
        return PlatformDescription.bhyveDefaults(new CpuTopology(2, 2, 1), 3L << 30, 3L << 30,
                List.of(3, 4), "vm1");
    }

    public static PlatformDescription of(CpuTopology t) {
        return PlatformDescription.bhyveDefaults(t, 1L << 30, 0, List.of(3), "vm1");
    }

    public static int u8(byte[] b, int off) {
        return b[off] & 0xFF;
    }

    public static int u16(byte[] b, int off) {
        return u8(b, off) | u8(b, off + 1) << 8;
    }

    public static long u32(byte[] b, int off) {
        return (u16(b, off) | (long) u16(b, off + 2) << 16) & 0xFFFF_FFFFL;
    }

    public static long u64(byte[] b, int off) {
        return u32(b, off) | u32(b, off + 4) << 32;
    }

    public static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
