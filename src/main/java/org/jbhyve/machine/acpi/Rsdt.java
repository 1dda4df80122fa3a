package org.jbhyve.machine.acpi;

import java.util.List;

/** Root System Description Table: the header then 32-bit table addresses. */
public final class Rsdt {
    private Rsdt() {}

    public static byte[] build(List<Long> tableAddresses) {
        LeBuffer b = SdtHeader.begin("RSDT", 1);
        for (long a : tableAddresses) {
            if (a >>> 32 != 0) {
                throw new IllegalArgumentException("RSDT entries are 32-bit");
            }
            b.u32(a);
        }
        return SdtHeader.finish(b);
    }
}
