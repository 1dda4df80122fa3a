package org.jbhyve.gdb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;

/**
 * Guest memory at the debugger's addresses, which are linear (virtual) addresses of the
 * selected vCPU: each 4 KiB page is translated on its own with {@link PageWalker} (larger
 * pages are whole multiples of 4 KiB, so this is exact), so an access that crosses a page
 * boundary follows the guest's mapping of each page. Only guest RAM is reached; device memory
 * (MMIO) is not read, since reading it has side effects.
 *
 * <p>Reads show the original bytes under planted breakpoints ({@link Breakpoints#overlay});
 * writes over them change the kept byte ({@link Breakpoints#mask}). A write is all or nothing:
 * every page is translated and checked before the first byte is stored.
 */
final class VirtualMemory {
    private static final long PAGE = 4096;

    private final GuestMemory memory;
    private final Breakpoints breakpoints;

    VirtualMemory(GuestMemory memory, Breakpoints breakpoints) {
        this.memory = memory;
        this.breakpoints = breakpoints;
    }

    /** The physical address of {@code address}; throws {@link PageWalker.UnmappedException}. */
    long physical(Paging paging, long address) {
        return PageWalker.translate(memory, paging, address);
    }

    /**
     * Reads up to {@code length} bytes from {@code address}: all of them, or the readable part
     * before the first page that is unmapped or not RAM (gdb accepts a short read).
     *
     * @throws PageWalker.UnmappedException when not even the first byte can be read
     */
    byte[] read(Paging paging, long address, int length) {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            long at = address + done;
            int chunk = chunk(at, length - done);
            long phys;
            try {
                phys = physical(paging, at);
                System.arraycopy(memory.read(phys, chunk), 0, out, done, chunk);
            } catch (PageWalker.UnmappedException | GuestMemoryException e) {
                if (done == 0) {
                    throw e instanceof PageWalker.UnmappedException u ? u
                            : new PageWalker.UnmappedException(String.format("0x%x is not RAM", at));
                }
                break;
            }
            breakpoints.overlay(phys, out, done, chunk);
            done += chunk;
            if (at + chunk == 0) {
                break; // wrapped around the top of the address space
            }
        }
        return done == length ? out : java.util.Arrays.copyOf(out, done);
    }

    /**
     * Writes {@code data} at {@code address}, all or nothing.
     *
     * @throws PageWalker.UnmappedException when some byte is unmapped or not RAM
     */
    void write(Paging paging, long address, byte[] data) {
        int pages = 0;
        long[] phys = new long[(data.length + (int) PAGE - 1) / (int) PAGE + 1];
        for (int done = 0; done < data.length; pages++) {
            long at = address + done;
            int chunk = chunk(at, data.length - done);
            if (done > 0 && at == 0) {
                throw new PageWalker.UnmappedException("write wraps around the address space");
            }
            phys[pages] = physical(paging, at);
            if (!memory.contains(phys[pages], chunk)) {
                throw new PageWalker.UnmappedException(String.format("0x%x is not RAM", at));
            }
            done += chunk;
        }
        int done = 0;
        for (int p = 0; p < pages; p++) {
            int chunk = chunk(address + done, data.length - done);
            memory.write(phys[p], breakpoints.mask(phys[p], data, done, chunk));
            done += chunk;
        }
    }

    /** Bytes from {@code at} to the end of its 4 KiB page, at most {@code left}. */
    private static int chunk(long at, int left) {
        long toPageEnd = PAGE - (at & (PAGE - 1));
        return (int) Math.min(toPageEnd, left);
    }
}
