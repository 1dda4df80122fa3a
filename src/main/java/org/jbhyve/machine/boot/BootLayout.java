package org.jbhyve.machine.boot;

/**
 * Where the loader puts its structures in low guest memory (all below 1 MiB and outside the
 * firmware-table window at 0xF0000):
 *
 * <pre>
 * 0x01000  GDT used on entry (null, null, 0x10 code, 0x18 data, 0x20 TSS, 0x28 64-bit code)
 * 0x01100  104-byte TSS (VMX needs a usable TR)
 * 0x02000  Multiboot information, 0x02100 module list, 0x02200 loader name, 0x02300-0x02EFF
 *          memory map (MultibootInfo)
 * 0x06000  PVH hvm_start_info, 0x06100 module list, 0x06200 memory map (up to 128 entries)
 * 0x07000  Linux boot_params ("zero page")
 * 0x09000  PML4, 0x0A000 PDPT, 0x0B000-0x0EFFF four page directories: 4 GiB identity, 2 MiB pages
 * 0x20000  kernel command line (up to 64 KiB)
 * </pre>
 * The kernel goes where its ELF headers or the boot protocol say (1 MiB for bzImage); the initrd
 * near the top of memory below 4 GiB.
 */
public final class BootLayout {
    public static final long GDT = 0x1000;
    public static final long TSS = 0x1100;
    public static final int TSS_LIMIT = 0x67;
    public static final int SELECTOR_CODE = 0x10;
    public static final int SELECTOR_DATA = 0x18;
    public static final int SELECTOR_TSS = 0x20;
    /** GDTR limit: the table ends with the TSS descriptor. */
    public static final int GDT_LIMIT = SELECTOR_TSS + 8 - 1;
    public static final long START_INFO = 0x6000;
    public static final long MODULE_LIST = 0x6100;
    public static final long MEMMAP = 0x6200;
    public static final int MEMMAP_MAX = 128;
    public static final long BOOT_PARAMS = 0x7000;
    public static final long PML4 = 0x9000;
    public static final long PDPT = 0xA000;
    public static final long PAGE_DIRECTORIES = 0xB000;
    public static final long CMDLINE = 0x20000;
    public static final int CMDLINE_MAX = 0x10000;
    /**
     * Lowest address a Linux or PVH kernel image may occupy: everything below belongs to the
     * loader. Multiboot kernels may go lower, around the few ranges that path uses
     * ({@code MultibootLoader.OWNED}).
     */
    public static final long KERNEL_MIN = 0x30000;

    private BootLayout() {}
}
