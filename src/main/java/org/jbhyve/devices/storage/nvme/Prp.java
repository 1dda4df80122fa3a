package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;

/**
 * Physical Region Page entries (NVMe 1.4, section 4.3), the way a command names its data buffer
 * with a 4 KiB memory page size (CC.MPS = 0, the only one this controller offers):
 *
 * <ul>
 *   <li>PRP1 points at the first byte; it may have an offset inside its page but must be dword
 *       aligned. The first piece runs to the end of that page.</li>
 *   <li>If the rest fits in one page, PRP2 is that page's (page-aligned) address.</li>
 *   <li>Otherwise PRP2 points at a PRP list: 8-byte entries, each a page-aligned page address,
 *       running to the end of the list's page. The first list may start at an offset; like
 *       bhyve, a dword-aligned one is accepted (older SeaBIOS builds its list in a structure
 *       with 4-byte alignment). When more than one page of data remains, the last whole entry
 *       of a list page points at the next list page instead.</li>
 * </ul>
 * Every page and every list entry is checked against guest RAM, the walk is bounded by the
 * transfer length (each step consumes a page of data or follows one chain pointer, and chain
 * pointers are bounded too), and contiguous pages become one host segment so the backend does
 * one system call for a guest-contiguous buffer.
 */
final class Prp {
    static final int PAGE = 4096;
    /** PRP1 is not dword aligned (bhyve answers Invalid Field for reads and writes). */
    static final int BAD_PRP1 = -1;
    /** Some entry is misaligned or outside RAM (Data Transfer Error). */
    static final int BAD_ENTRY = -2;

    private Prp() {}

    /** The segment array size {@link #map} needs for {@code length} bytes. */
    static int maxSegments(long length) {
        return (int) ((length + PAGE - 1) / PAGE) + 1;
    }

    /**
     * Maps a {@code length}-byte transfer (1..MDTS) into {@code out} (at least
     * {@link #maxSegments} long) as host views of guest RAM; returns how many segments, or
     * {@link #BAD_PRP1} / {@link #BAD_ENTRY}.
     */
    static int map(GuestMemory memory, long prp1, long prp2, long length, MemorySegment[] out) {
        if ((prp1 & 3) != 0) {
            return BAD_PRP1;
        }
        try {
            Builder b = new Builder(memory, out);
            long first = Math.min(PAGE - (prp1 & (PAGE - 1)), length);
            if (!b.add(prp1, first)) {
                return BAD_ENTRY;
            }
            long remaining = length - first;
            if (remaining == 0) {
                return b.finish();
            }
            if (remaining <= PAGE) {
                return (prp2 & (PAGE - 1)) == 0 && b.add(prp2, remaining) ? b.finish() : BAD_ENTRY;
            }
            if ((prp2 & 3) != 0) {
                return BAD_ENTRY;
            }
            long entry = prp2;
            long lastSlot = lastSlot(prp2);
            int hops = 0;
            int maxHops = (int) (remaining / PAGE) + 2;
            while (remaining > 0) {
                if (lastSlot < entry || !memory.contains(entry, 8)) {
                    return BAD_ENTRY;
                }
                long value = memory.getLong(entry);
                if ((value & (PAGE - 1)) != 0) {
                    return BAD_ENTRY;
                }
                if (entry == lastSlot && remaining > PAGE) { // chain to the next list page
                    if (++hops > maxHops) {
                        return BAD_ENTRY;
                    }
                    entry = value;
                    lastSlot = lastSlot(value);
                    continue;
                }
                long n = Math.min(remaining, PAGE);
                if (!b.add(value, n)) {
                    return BAD_ENTRY;
                }
                remaining -= n;
                entry += 8;
            }
            return b.finish();
        } catch (GuestMemoryException e) {
            return BAD_ENTRY;
        }
    }

    /** The last whole 8-byte slot of the list page that {@code list} starts in. */
    private static long lastSlot(long list) {
        return list + ((PAGE - (list & (PAGE - 1))) / 8 - 1) * 8;
    }

    /** Copies {@code length} bytes of {@code data} from {@code offset} to the guest buffer; a status. */
    static int copyToGuest(GuestMemory memory, long prp1, long prp2, byte[] data, int offset, int length) {
        MemorySegment[] segs = new MemorySegment[maxSegments(length)];
        int n = map(memory, prp1, prp2, length, segs);
        if (n < 0) {
            return NvmeStatus.DATA_TRANSFER_ERROR;
        }
        int at = offset;
        for (int i = 0; i < n; i++) {
            int len = (int) segs[i].byteSize();
            MemorySegment.copy(data, at, segs[i], ValueLayout.JAVA_BYTE, 0, len);
            at += len;
        }
        return NvmeStatus.SUCCESS;
    }

    /** Copies {@code length} bytes out of the guest buffer, or returns null if the PRPs are bad. */
    static byte[] copyFromGuest(GuestMemory memory, long prp1, long prp2, int length) {
        MemorySegment[] segs = new MemorySegment[maxSegments(length)];
        int n = map(memory, prp1, prp2, length, segs);
        if (n < 0) {
            return null;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (int i = 0; i < n; i++) {
            int len = (int) segs[i].byteSize();
            MemorySegment.copy(segs[i], ValueLayout.JAVA_BYTE, 0, out, at, len);
            at += len;
        }
        return out;
    }

    /** Collects pages, merging guest-contiguous ones that lie in one RAM region. */
    private static final class Builder {
        private final GuestMemory memory;
        private final MemorySegment[] out;
        private int count;
        private long start = -1;
        private long length;

        Builder(GuestMemory memory, MemorySegment[] out) {
            this.memory = memory;
            this.out = out;
        }

        boolean add(long address, long n) {
            if (!memory.contains(address, n)) {
                return false;
            }
            if (start >= 0 && start + length == address && memory.contains(start, length + n)) {
                length += n;
                return true;
            }
            flush();
            start = address;
            length = n;
            return true;
        }

        private void flush() {
            if (start >= 0) {
                out[count++] = memory.slice(start, length);
            }
        }

        int finish() {
            flush();
            start = -1;
            return count;
        }
    }
}
