package org.jbhyve.machine.boot;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jbhyve.machine.boot.E820Map.Entry;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * The Multiboot information structure (spec 0.6.96, section 3.3) a kernel finds at EBX, with
 * EAX = 0x2BADB002. Fields are u32; each group is valid only when its flags bit is set:
 *
 * <pre>
 *  0 flags         bit 0 mem_*, 1 boot_device, 2 cmdline, 3 mods_*, 6 mmap_*, 9 boot_loader_name
 *  4 mem_lower     KiB of RAM from address 0 (at most 640)
 *  8 mem_upper     KiB of RAM from 1 MiB up to the first hole
 * 12 boot_device   (not given: there is no BIOS disk)
 * 16 cmdline       address of a NUL-terminated string
 * 20 mods_count    24 mods_addr: {u32 mod_start, mod_end (exclusive), string, reserved} each
 * 28..43 syms      (not given)
 * 44 mmap_length   48 mmap_addr: entries {u32 size = 20, u64 base_addr, u64 length, u32 type},
 *                  the next entry at base + size + 4; mmap_length counts bytes
 * 52..63 drives, config_table (not given)
 * 64 boot_loader_name   68..87 apm_table, VBE fields (not given)
 * </pre>
 * As QEMU does (hw/i386/multiboot.c), the command line is the kernel's file name, a space, then
 * the user's command line (kvm-unit-tests split it into argv, so argv[0] is the file name), and
 * each module's string is its file name. Memory fields follow QEMU's option ROM too: mem_upper
 * counts contiguous RAM from 1 MiB below 4 GiB.
 *
 * <p>Where it goes (low memory left free by {@link BootLayout}; a Multiboot kernel may lie around
 * these ranges but not on them):
 * <pre>
 * 0x2000  information structure (88 bytes)
 * 0x2100  module list (one entry: the initrd)
 * 0x2200  boot loader name "jbhyve"
 * 0x2300  memory map, up to 128 entries of 24 bytes (to 0x2F00)
 * 0x20000 command line, then the module string (BootLayout.CMDLINE, 64 KiB in all)
 * </pre>
 */
final class MultibootInfo {
    static final int BOOTLOADER_MAGIC = 0x2BADB002;
    static final long INFO = 0x2000;
    static final long MODULES = 0x2100;
    static final long LOADER_NAME = 0x2200;
    static final long MMAP = 0x2300;
    static final int MMAP_MAX = 128;
    static final int MMAP_ENTRY_SIZE = 24;
    static final int INFO_SIZE = 88;
    /** The end of the area above (exclusive): the memory map's last possible entry. */
    static final long END = MMAP + (long) MMAP_MAX * MMAP_ENTRY_SIZE;
    static final String LOADER = "jbhyve";
    static final int FLAG_MEMORY = 1;
    static final int FLAG_CMDLINE = 1 << 2;
    static final int FLAG_MODULES = 1 << 3;
    static final int FLAG_MMAP = 1 << 6;
    static final int FLAG_LOADER_NAME = 1 << 9;
    private static final long FOUR_GIB = 1L << 32;

    /** A module already copied to guest memory: [start, start + size), and its string. */
    record Module(long start, long size, String string) {}

    private MultibootInfo() {}

    /**
     * Writes the structure, its strings and memory map; returns the structure's address.
     *
     * @param commandLine the whole command line ("kernel-path args"), without the NUL
     * @param module the initrd as module 0, or null
     * @throws BootException when the strings do not fit in the 64 KiB string area
     */
    static long write(GuestMemory memory, MemoryMap map, String commandLine, Module module) {
        byte[] cmdline = cString(commandLine);
        byte[] moduleString = module == null ? new byte[0] : cString(module.string());
        if ((long) cmdline.length + moduleString.length > BootLayout.CMDLINE_MAX) {
            throw new BootException("boot.cmdline and the file names are longer than "
                    + BootLayout.CMDLINE_MAX + " bytes in all");
        }
        List<Entry> entries = E820Map.of(map);
        if (entries.size() > MMAP_MAX) {
            throw new IllegalStateException("memory map has too many entries");
        }
        memory.write(INFO, new byte[INFO_SIZE]);
        memory.putInt(INFO, FLAG_MEMORY | FLAG_CMDLINE | FLAG_MODULES | FLAG_MMAP | FLAG_LOADER_NAME);
        memory.putInt(INFO + 4, (int) memLowerKiB(entries));
        memory.putInt(INFO + 8, (int) memUpperKiB(entries));
        memory.write(BootLayout.CMDLINE, cmdline);
        memory.putInt(INFO + 16, (int) BootLayout.CMDLINE);
        memory.putInt(INFO + 24, (int) MODULES);
        memory.write(MODULES, new byte[16]);
        if (module != null) {
            long string = BootLayout.CMDLINE + cmdline.length;
            memory.write(string, moduleString);
            memory.putInt(INFO + 20, 1);
            memory.putInt(MODULES, (int) module.start());
            memory.putInt(MODULES + 4, (int) (module.start() + module.size()));
            memory.putInt(MODULES + 8, (int) string);
        }
        for (int i = 0; i < entries.size(); i++) {
            long at = MMAP + (long) i * MMAP_ENTRY_SIZE;
            memory.putInt(at, MMAP_ENTRY_SIZE - 4);
            memory.putLong(at + 4, entries.get(i).address());
            memory.putLong(at + 12, entries.get(i).size());
            memory.putInt(at + 20, entries.get(i).type());
        }
        memory.putInt(INFO + 44, entries.size() * MMAP_ENTRY_SIZE);
        memory.putInt(INFO + 48, (int) MMAP);
        memory.write(LOADER_NAME, cString(LOADER));
        memory.putInt(INFO + 64, (int) LOADER_NAME);
        return INFO;
    }

    /** KiB of RAM starting at address 0, at most 640 (the legacy hole starts at 0xA0000). */
    static long memLowerKiB(List<Entry> entries) {
        for (Entry e : entries) {
            if (e.type() == E820Map.TYPE_RAM && e.address() == 0) {
                return Math.min(e.size(), E820Map.LEGACY_HOLE_START) / 1024;
            }
        }
        return 0;
    }

    /** KiB of RAM contiguous from 1 MiB, counting only RAM below 4 GiB (the entries may be unsorted). */
    static long memUpperKiB(List<Entry> entries) {
        long end = E820Map.LEGACY_HOLE_END;
        boolean extended = true;
        while (extended) {
            extended = false;
            for (Entry e : entries) {
                if (e.type() == E820Map.TYPE_RAM && e.address() <= end && end < e.address() + e.size()
                        && end < FOUR_GIB) {
                    end = Math.min(e.address() + e.size(), FOUR_GIB);
                    extended = true;
                }
            }
        }
        return (end - E820Map.LEGACY_HOLE_END) / 1024;
    }

    private static byte[] cString(String s) {
        byte[] text = s.getBytes(StandardCharsets.UTF_8);
        byte[] terminated = new byte[text.length + 1];
        System.arraycopy(text, 0, terminated, 0, text.length);
        return terminated;
    }
}
