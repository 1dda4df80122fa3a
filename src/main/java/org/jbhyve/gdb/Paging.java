package org.jbhyve.gdb;

import org.jbhyve.kvm.SpecialRegisters;

/**
 * The four registers that decide how a vCPU turns linear addresses into physical ones (Intel
 * SDM vol. 3, 4.1.1):
 *
 * <pre>
 * CR0.PE  CR0.PG  CR4.PAE  EFER.LMA  CR4.LA57   mode
 *   0       -       -        -         -        real mode: linear = physical
 *   1       0       -        -         -        protected, no paging: linear = physical (32 bits)
 *   1       1       0        -         -        32-bit paging: 2 levels of 1024 4-byte entries,
 *                                               4 MiB pages with CR4.PSE (PSE-36 high bits)
 *   1       1       1        0         -        PAE: 4 PDPTEs from CR3, then 2 levels of 512
 *                                               8-byte entries, 2 MiB pages
 *   1       1       1        1         0        4-level: PML4, PDPT (1 GiB pages), PD (2 MiB), PT
 *   1       1       1        1         1        5-level: PML5 above the four
 * </pre>
 * The debugger translates as the kernel would (supervisor, reads), whatever the CPL.
 */
public record Paging(long cr0, long cr3, long cr4, long efer) {
    public static final long CR0_PE = 1L;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PSE = 1L << 4;
    public static final long CR4_PAE = 1L << 5;
    public static final long CR4_LA57 = 1L << 12;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;

    /** The translation modes of the table above. */
    public enum Mode {
        REAL, FLAT, LEGACY, PAE, LEVEL4, LEVEL5
    }

    /** The paging registers of a vCPU's special registers. */
    public static Paging of(SpecialRegisters s) {
        return new Paging(s.cr0, s.cr3, s.cr4, s.efer);
    }

    public Mode mode() {
        if ((cr0 & CR0_PE) == 0) {
            return Mode.REAL;
        }
        if ((cr0 & CR0_PG) == 0) {
            return Mode.FLAT;
        }
        if ((cr4 & CR4_PAE) == 0) {
            return Mode.LEGACY;
        }
        if ((efer & EFER_LMA) != 0 || (efer & EFER_LME) != 0) {
            return (cr4 & CR4_LA57) != 0 ? Mode.LEVEL5 : Mode.LEVEL4;
        }
        return Mode.PAE;
    }

    /** Whether linear addresses are 64 bits wide (long mode) rather than 32. */
    public boolean longMode() {
        Mode m = mode();
        return m == Mode.LEVEL4 || m == Mode.LEVEL5;
    }
}
