package org.jbhyve.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The Multiboot (version 1, spec 0.6.96) header a kernel carries to be loaded by GRUB legacy,
 * grub-bhyve or QEMU's {@code -kernel}. It lies wholly within the first 8192 bytes of the file,
 * 32-bit aligned:
 *
 * <pre>
 *  0 u32 magic = 0x1BADB002
 *  4 u32 flags                 bits 0-15 required features, 16-31 optional ones
 *  8 u32 checksum              magic + flags + checksum = 0 (mod 2^32)
 * 12 u32 header_addr           fields 12-28 are valid when flags bit 16 is set
 * 16 u32 load_addr             (the "a.out kludge": load the file as a flat image)
 * 20 u32 load_end_addr         0 = to the end of the file
 * 24 u32 bss_end_addr          0 = no bss
 * 28 u32 entry_addr
 * 32 u32 mode_type, width, height, depth   (flags bit 2: preferred video mode)
 * </pre>
 * Required flag bits: 0 align modules on 4 KiB pages, 1 pass the memory fields, 2 video mode.
 * This loader always page-aligns modules and passes memory information; a video mode request
 * is ignored (there is no framebuffer), as QEMU does. Any other required bit is refused.
 * A magic number whose checksum does not add up is not a header (QEMU keeps scanning too).
 */
record MultibootHeader(int offset, int flags, long headerAddress, long loadAddress, long loadEndAddress,
                       long bssEndAddress, long entryAddress) {
    static final int MAGIC = 0x1BADB002;
    /** Where the header may be: within this many bytes from the start of the file. */
    static final int SEARCH_LIMIT = 8192;
    static final int FLAG_PAGE_ALIGN = 1;
    static final int FLAG_MEMORY_INFO = 1 << 1;
    static final int FLAG_VIDEO_MODE = 1 << 2;
    static final int FLAG_ADDRESSES = 1 << 16;
    private static final int KNOWN_REQUIRED = FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO | FLAG_VIDEO_MODE;
    private static final int BASIC_SIZE = 12;
    private static final int ADDRESS_FIELDS_END = 32;

    /** Whether the address fields (flags bit 16) replace the ELF program headers. */
    boolean hasAddressFields() {
        return (flags & FLAG_ADDRESSES) != 0;
    }

    /**
     * The first valid header in {@code image}, or empty when there is none (including a magic
     * number with a bad checksum, or one not 4-byte aligned or beyond the first 8 KiB).
     *
     * @throws BootException when the header asks for a required feature this loader lacks, or
     *         its address fields do not fit in the first 8 KiB of the file
     */
    static Optional<MultibootHeader> find(java.lang.foreign.MemorySegment image, String name) {
        return find(image.asSlice(0, Math.min(image.byteSize(), SEARCH_LIMIT)).toArray(
                java.lang.foreign.ValueLayout.JAVA_BYTE), name);
    }

    /** {@link #find(java.lang.foreign.MemorySegment, String)} over the file's first bytes, on the heap. */
    static Optional<MultibootHeader> find(byte[] image, String name) {
        int end = Math.min(image.length, SEARCH_LIMIT);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + BASIC_SIZE <= end; at += 4) {
            // The magic's low byte first: a plain array read rejects nearly every position, and
            // this loop runs before the JIT compiles anything (2,048 positions at each start).
            if (image[at] != (byte) MAGIC || b.getInt(at) != MAGIC) {
                continue;
            }
            int flags = b.getInt(at + 4);
            if (MAGIC + flags + b.getInt(at + 8) != 0) {
                continue;
            }
            int unsupported = flags & 0xFFFF & ~KNOWN_REQUIRED;
            if (unsupported != 0) {
                throw new BootException(String.format(
                        "%s: multiboot header requires unsupported features (flags 0x%x)", name, unsupported));
            }
            if ((flags & FLAG_ADDRESSES) == 0) {
                return Optional.of(new MultibootHeader(at, flags, 0, 0, 0, 0, 0));
            }
            if (at + ADDRESS_FIELDS_END > end) {
                throw new BootException(name + ": multiboot header address fields lie beyond the first 8 KiB");
            }
            return Optional.of(new MultibootHeader(at, flags, u32(b, at + 12), u32(b, at + 16), u32(b, at + 20),
                    u32(b, at + 24), u32(b, at + 28)));
        }
        return Optional.empty();
    }

    /**
     * Whether the file at {@code kernel} starts like a Multiboot kernel (a valid header in its
     * first 8 KiB). Unreadable files and headers the loader would refuse answer false here; the
     * loader reports them properly when it loads the kernel.
     */
    static boolean isMultiboot(java.nio.file.Path kernel) {
        if (!java.nio.file.Files.isRegularFile(kernel)) {
            return false; // a FIFO would block here; the loader refuses what is not a regular file
        }
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(kernel)) {
            return find(in.readNBytes(SEARCH_LIMIT), kernel.toString()).isPresent();
        } catch (java.io.IOException | BootException e) {
            return false;
        }
    }

    private static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }
}
