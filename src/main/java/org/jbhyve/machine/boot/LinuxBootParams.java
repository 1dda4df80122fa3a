package org.jbhyve.machine.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): struct boot_params, the
 * "zero page", carries the setup header copied from the image plus what the loader fills in.
 *
 * <pre>
 * 0x0C0 u32 ext_ramdisk_image  0x0C4 u32 ext_ramdisk_size  0x0C8 u32 ext_cmd_line_ptr
 * 0x1E8 u8  e820_entries       0x2D0 e820 table: {u64 addr, u64 size, u32 type} x 128 (packed)
 * setup header (offsets in the image and in boot_params alike):
 * 0x1F1 u8  setup_sects (0 = 4)   0x1FA u16 vid_mode     0x1FE u16 boot_flag 0xAA55
 * 0x202 u32 "HdrS"                0x206 u16 version      0x210 u8  type_of_loader
 * 0x211 u8  loadflags (bit 0 LOADED_HIGH, bit 7 CAN_USE_HEAP)     0x214 u32 code32_start
 * 0x218 u32 ramdisk_image         0x21C u32 ramdisk_size 0x224 u16 heap_end_ptr
 * 0x228 u32 cmd_line_ptr          0x22C u32 initrd_addr_max      0x230 u32 kernel_alignment
 * 0x238 u32 cmdline_size          0x260 u32 init_size
 * </pre>
 * The protected-mode kernel follows (setup_sects + 1) * 512 bytes of real-mode setup in a
 * bzImage and is loaded at 1 MiB; the 32-bit entry is its first byte, with ESI = boot_params.
 */
final class LinuxBootParams {
    static final long KERNEL_LOAD = 0x100000;
    private static final int HDRS = 0x53726448;
    private static final int E820_ENTRY_SIZE = 20;
    private static final int E820_MAX = 128;
    private static final int LOADED_HIGH = 0x01;
    private static final int CAN_USE_HEAP = 0x80;
    private static final long DEFAULT_INITRD_MAX = 0x37FFFFFF;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Where an initrd goes: highest page-aligned RAM below {@code limit}; 0 when there is none. */
    interface InitrdPlacer {
        long place(MemorySegment ramdisk, long limit);
    }

    private LinuxBootParams() {}

    static boolean isBzImage(MemorySegment image) {
        if (image.byteSize() < 0x264) {
            return false;
        }
        return image.get(U32, 0x202) == HDRS && Short.toUnsignedInt(image.get(U16, 0x1FE)) == 0xAA55;
    }

    /**
     * Loads the protected-mode part of a bzImage at 1 MiB and writes boot_params.
     *
     * @param image the whole bzImage file, read where it lies (a mapping)
     * @param ramdisk the initrd file or null, copied by {@code placer}
     */
    static EntryState loadBzImage(GuestMemory memory, MemoryMap map, MemorySegment image, String name,
                                  int cmdlineBytes, MemorySegment ramdisk, InitrdPlacer placer) {
        MemorySegment b = image;
        int version = Short.toUnsignedInt(b.get(U16, 0x206));
        if (version < 0x0206) {
            throw new BootException(name + ": Linux boot protocol " + Integer.toHexString(version)
                    + " is too old (2.06 or later needed)");
        }
        int loadFlags = u8(image, 0x211);
        if ((loadFlags & LOADED_HIGH) == 0) {
            throw new BootException(name + ": a zImage that loads low is not supported; use a bzImage");
        }
        int setupSects = u8(image, 0x1F1);
        long kernelOffset = (long) ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
        if (kernelOffset >= image.byteSize()) {
            throw new BootException(name + ": bzImage is truncated");
        }
        long cmdlineSize = Integer.toUnsignedLong(b.get(U32, 0x238));
        if (cmdlineBytes - 1 > cmdlineSize) {
            throw new BootException("boot.cmdline is longer than this kernel's limit of " + cmdlineSize + " bytes");
        }
        long payload = image.byteSize() - kernelOffset;
        long initSize = version >= 0x020A ? Integer.toUnsignedLong(b.get(U32, 0x260)) : 0;
        long footprint = Math.max(payload, initSize);
        if (KERNEL_LOAD + footprint > map.lowMemory()) {
            throw new BootException(String.format("%s needs 0x%x bytes at 1 MiB: more than guest memory (%d MiB)",
                    name, footprint, map.totalRam() / MemoryMap.MiB));
        }
        memory.write(KERNEL_LOAD, image.asSlice(kernelOffset, payload));

        long initrdMax = version >= 0x0203 ? Integer.toUnsignedLong(b.get(U32, 0x22C)) : DEFAULT_INITRD_MAX;
        long initrd = placer.place(ramdisk, initrdMax);
        if (ramdisk != null && initrd < KERNEL_LOAD + footprint) {
            throw new BootException("initrd does not fit in guest memory above the kernel");
        }

        long p = BootLayout.BOOT_PARAMS;
        memory.write(p, new byte[4096]);
        int headerEnd = 0x202 + u8(image, 0x201);
        memory.write(p + 0x1F1, image.asSlice(0x1F1, Math.min(headerEnd, 0x280) - 0x1F1));
        memory.putShort(p + 0x1FA, (short) 0xFFFF);
        memory.putByte(p + 0x211, (byte) (loadFlags | CAN_USE_HEAP));
        memory.putShort(p + 0x224, (short) 0xFE00);
        fillLoaderFields(memory, map, initrd, ramdisk == null ? 0 : ramdisk.byteSize());
        return new EntryState(EntryState.Mode.PROTECTED_32, KERNEL_LOAD, 0, p, "linux32");
    }

    private static int u8(MemorySegment s, long at) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, at));
    }

    /** boot_params for a vmlinux entered at its 64-bit entry point: a minimal header, as the protocol allows. */
    static long writeFor64BitElf(GuestMemory memory, MemoryMap map, int cmdlineBytes, long initrd, long initrdSize) {
        long p = BootLayout.BOOT_PARAMS;
        memory.write(p, new byte[4096]);
        memory.putShort(p + 0x1FE, (short) 0xAA55);
        memory.putInt(p + 0x202, HDRS);
        memory.putShort(p + 0x206, (short) 0x020F);
        memory.putShort(p + 0x1FA, (short) 0xFFFF);
        memory.putInt(p + 0x230, 0x1000000);
        memory.putInt(p + 0x238, BootLayout.CMDLINE_MAX - 1);
        memory.putByte(p + 0x211, (byte) LOADED_HIGH);
        fillLoaderFields(memory, map, initrd, initrdSize);
        return p;
    }

    private static void fillLoaderFields(GuestMemory memory, MemoryMap map, long initrd, long initrdSize) {
        long p = BootLayout.BOOT_PARAMS;
        memory.putByte(p + 0x210, (byte) 0xFF);
        memory.putInt(p + 0x228, (int) BootLayout.CMDLINE);
        memory.putInt(p + 0x218, (int) initrd);
        memory.putInt(p + 0x21C, (int) initrdSize);
        memory.putInt(p + 0x0C0, (int) (initrd >>> 32));
        memory.putInt(p + 0x0C4, (int) (initrdSize >>> 32));
        memory.putByte(p + 0x1E8, (byte) E820Map.of(map).size());
        KernelLoader.writeE820(memory, map, p + 0x2D0, E820_ENTRY_SIZE, E820_MAX);
    }
}
