package org.jbhyve.machine.boot;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * The PVH boot ABI (Xen's arch-x86/hvm/start_info.h): the guest enters at the address in its
 * XEN_ELFNOTE_PHYS32_ENTRY note in 32-bit protected mode, paging off, with EBX = the address of
 *
 * <pre>
 * struct hvm_start_info {            struct hvm_memmap_table_entry {   struct hvm_modlist_entry {
 *   0 u32 magic = 0x336ec578            0 u64 addr                        0 u64 paddr
 *   4 u32 version = 1                   8 u64 size                        8 u64 size
 *   8 u32 flags                        16 u32 type (1 = RAM)             16 u64 cmdline_paddr
 *  12 u32 nr_modules                   20 u32 reserved                   24 u64 reserved
 *  16 u64 modlist_paddr              }                                 }
 *  24 u64 cmdline_paddr
 *  32 u64 rsdp_paddr (0 = none)
 *  40 u64 memmap_paddr
 *  48 u32 memmap_entries
 *  52 u32 reserved
 * }
 * </pre>
 * An initrd is passed as module 0.
 */
final class PvhStartInfo {
    static final int MAGIC = 0x336ec578;
    private static final int VERSION = 1;
    private static final int MEMMAP_ENTRY_SIZE = 24;

    private PvhStartInfo() {}

    static EntryState write(GuestMemory memory, MemoryMap map, long entry, int cmdlineBytes,
                            long initrdAddress, long initrdSize, long rsdp) {
        long s = BootLayout.START_INFO;
        memory.write(s, new byte[56]);
        memory.putInt(s, MAGIC);
        memory.putInt(s + 4, VERSION);
        memory.putLong(s + 24, cmdlineBytes > 1 ? BootLayout.CMDLINE : 0);
        memory.putLong(s + 32, rsdp);
        if (initrdAddress != 0) {
            memory.putInt(s + 12, 1);
            memory.putLong(s + 16, BootLayout.MODULE_LIST);
            memory.putLong(BootLayout.MODULE_LIST, initrdAddress);
            memory.putLong(BootLayout.MODULE_LIST + 8, initrdSize);
            memory.putLong(BootLayout.MODULE_LIST + 16, 0);
            memory.putLong(BootLayout.MODULE_LIST + 24, 0);
        }
        int entries = E820Map.of(map).size();
        KernelLoader.writeE820(memory, map, BootLayout.MEMMAP, MEMMAP_ENTRY_SIZE, BootLayout.MEMMAP_MAX);
        memory.putLong(s + 40, BootLayout.MEMMAP);
        memory.putInt(s + 48, entries);
        return new EntryState(EntryState.Mode.PROTECTED_32, entry, BootLayout.START_INFO, 0, "pvh");
    }
}
