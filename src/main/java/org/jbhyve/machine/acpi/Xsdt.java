package org.jbhyve.machine.acpi;

import java.util.List;

/** Extended System Description Table: the header then 64-bit table addresses. */
public final class Xsdt {
    private Xsdt() {}

    public static byte[] build(List<Long> tableAddresses) {
        LeBuffer b = SdtHeader.begin("XSDT", 1);
        for (long a : tableAddresses) {
            b.u64(a);
        }
        return SdtHeader.finish(b);
    }
}
