package org.jbhyve.machine.boot;

import org.jbhyve.memory.GuestMemory;

/**
 * Identity page tables for the first 4 GiB with 2 MiB pages, for kernels entered in long mode:
 * PML4[0] -> PDPT, PDPT[0..3] -> four page directories, each PDE = (n * 2 MiB) | PS | RW | P.
 */
final class PageTables {
    private static final long PRESENT_WRITABLE = 0x3;
    private static final long LARGE_PAGE = 0x80;
    private static final long TWO_MIB = 2L << 20;

    private PageTables() {}

    static void writeIdentity4G(GuestMemory memory) {
        memory.write(BootLayout.PML4, new byte[4096]);
        memory.write(BootLayout.PDPT, new byte[4096]);
        memory.putLong(BootLayout.PML4, BootLayout.PDPT | PRESENT_WRITABLE);
        for (int d = 0; d < 4; d++) {
            long directory = BootLayout.PAGE_DIRECTORIES + d * 4096L;
            memory.putLong(BootLayout.PDPT + 8L * d, directory | PRESENT_WRITABLE);
            for (int e = 0; e < 512; e++) {
                long page = ((long) d * 512 + e) * TWO_MIB;
                memory.putLong(directory + 8L * e, page | LARGE_PAGE | PRESENT_WRITABLE);
            }
        }
    }
}
