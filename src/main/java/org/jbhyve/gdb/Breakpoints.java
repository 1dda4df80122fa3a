package org.jbhyve.gdb;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.memory.GuestMemory;

/**
 * The debugger's breakpoints and watchpoints, shared by every vCPU (all-stop).
 *
 * <p>Software breakpoints ({@code Z0}) replace the instruction's first byte in guest RAM with
 * {@code int3} (0xCC), keyed by the physical address the debugger's (linear) address mapped to
 * when it was set; the original byte is kept, so reads through the debugger show it
 * ({@link #overlay}), and writes through the debugger over a planted byte change the kept byte
 * instead ({@link #mask}). Two addresses mapping to one physical byte share one plant. Removing
 * restores the byte only if the guest has not overwritten the 0xCC meanwhile.
 *
 * <p>Hardware breakpoints and watchpoints ({@code Z1}-{@code Z4}) use the four debug address
 * registers. DR7 (SDM vol. 3, 18.2.4) has per slot i: Gi (bit 2i+1) global enable, R/Wi (bits
 * 16+4i, 2 bits: 00 execute, 01 write, 11 read or write) and LENi (bits 18+4i: 00 one byte, 01
 * two, 11 four, 10 eight, the address aligned to it). x86 has no read-only watch: {@code Z3} uses
 * 11 like {@code Z4}. A watched range that is unaligned or longer than 8 bytes takes several
 * slots.
 *
 * <p>Thread-safe: vCPU threads ask {@link #plantedAt} while the session edits.
 */
final class Breakpoints {
    static final byte INT3 = (byte) 0xCC;
    static final int MAX_SOFTWARE = 4096;
    static final int EXEC = 1, WRITE = 2, READ = 3, ACCESS = 4;

    /** A planted byte and how many breakpoint addresses share it. */
    private static final class Plant {
        byte original;
        int users;

        Plant(byte original) {
            this.original = original;
        }
    }

    /** A hardware breakpoint or watchpoint: gdb's type (1-4), address and length, and its slots. */
    record Hardware(int type, long address, int length, List<Integer> slots) {}

    private final GuestMemory memory;
    private final Map<Long, Long> software = new LinkedHashMap<>(); // address -> physical
    private final Map<Long, Plant> planted = new HashMap<>();       // physical -> plant
    private final Hardware[] slotOwner = new Hardware[4];
    private final long[] slotAddress = new long[4];
    private final int[] slotControl = new int[4]; // R/W and LEN bits, 4 bits per slot

    Breakpoints(GuestMemory memory) {
        this.memory = memory;
    }

    /**
     * Plants an int3 for {@code address}, which maps to {@code physical}. Setting the same
     * address again is allowed and changes nothing.
     *
     * @return false when too many breakpoints are set
     * @throws org.jbhyve.memory.GuestMemoryException when {@code physical} is not RAM
     */
    synchronized boolean insertSoftware(long address, long physical) {
        if (software.containsKey(address)) {
            return true;
        }
        if (software.size() >= MAX_SOFTWARE) {
            return false;
        }
        Plant p = planted.get(physical);
        if (p == null) {
            p = new Plant(memory.getByte(physical));
            memory.putByte(physical, INT3);
            planted.put(physical, p);
        }
        p.users++;
        software.put(address, physical);
        return true;
    }

    /** Removes the breakpoint at {@code address}; false when there was none. */
    synchronized boolean removeSoftware(long address) {
        Long physical = software.remove(address);
        if (physical == null) {
            return false;
        }
        Plant p = planted.get(physical);
        if (--p.users == 0) {
            planted.remove(physical);
            if (memory.getByte(physical) == INT3) {
                memory.putByte(physical, p.original);
            }
        }
        return true;
    }

    /** Whether an int3 of ours sits at this physical address. */
    synchronized boolean plantedAt(long physical) {
        return planted.containsKey(physical);
    }

    synchronized boolean hasSoftware() {
        return !software.isEmpty();
    }

    /** Puts the original bytes back into {@code bytes[off..off+len)}, read from {@code physical}. */
    synchronized void overlay(long physical, byte[] bytes, int off, int len) {
        for (Map.Entry<Long, Plant> e : planted.entrySet()) {
            long at = e.getKey() - physical;
            if (at >= 0 && at < len) {
                bytes[off + (int) at] = e.getValue().original;
            }
        }
    }

    /**
     * The bytes to store for a debugger write of {@code bytes[off..off+len)} at {@code physical}:
     * over a planted byte the write updates the kept original and the int3 stays.
     */
    synchronized byte[] mask(long physical, byte[] bytes, int off, int len) {
        byte[] out = java.util.Arrays.copyOfRange(bytes, off, off + len);
        for (Map.Entry<Long, Plant> e : planted.entrySet()) {
            long at = e.getKey() - physical;
            if (at >= 0 && at < len) {
                e.getValue().original = out[(int) at];
                out[(int) at] = INT3;
            }
        }
        return out;
    }

    /**
     * Sets a hardware breakpoint (type {@link #EXEC}) or watchpoint over [address, address+length).
     *
     * @return false when the debug registers cannot hold it (too few free slots, bad length)
     */
    synchronized boolean insertHardware(int type, long address, int length) {
        if (find(type, address, length) != null) {
            return true;
        }
        List<long[]> pieces = pieces(type, address, length);
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < 4 && free.size() < pieces.size(); i++) {
            if (slotOwner[i] == null) {
                free.add(i);
            }
        }
        if (pieces.isEmpty() || free.size() < pieces.size()) {
            return false;
        }
        Hardware h = new Hardware(type, address, length, List.copyOf(free));
        for (int k = 0; k < pieces.size(); k++) {
            int slot = free.get(k);
            slotOwner[slot] = h;
            slotAddress[slot] = pieces.get(k)[0];
            slotControl[slot] = (lenBits((int) pieces.get(k)[1]) << 2) | rwBits(type);
        }
        return true;
    }

    /** Removes a hardware breakpoint or watchpoint; false when there was none. */
    synchronized boolean removeHardware(int type, long address, int length) {
        Hardware h = find(type, address, length);
        if (h == null) {
            return false;
        }
        for (int slot : h.slots()) {
            slotOwner[slot] = null;
            slotAddress[slot] = 0;
            slotControl[slot] = 0;
        }
        return true;
    }

    /** The hardware breakpoint or watchpoint whose slot DR6 (bits 0-3) reports hit, or null. */
    synchronized Hardware hardwareHit(long dr6) {
        for (int i = 0; i < 4; i++) {
            if ((dr6 & (1L << i)) != 0 && slotOwner[i] != null) {
                return slotOwner[i];
            }
        }
        return null;
    }

    /** What the vCPUs must trap on now. */
    synchronized GuestDebug guestDebug() {
        long dr7 = 0;
        boolean any = false;
        for (int i = 0; i < 4; i++) {
            if (slotOwner[i] != null) {
                any = true;
                dr7 |= (2L << (2 * i)) | ((long) slotControl[i] << (16 + 4 * i));
            }
        }
        if (any) {
            dr7 |= 0x600; // GE (exact data breakpoints on old CPUs) and reserved bit 10, which reads 1
        }
        return new GuestDebug(!software.isEmpty(), any, slotAddress, dr7);
    }

    /** Removes every breakpoint and watchpoint, putting the original bytes back. */
    synchronized void clear() {
        for (Long address : List.copyOf(software.keySet())) {
            removeSoftware(address);
        }
        for (int i = 0; i < 4; i++) {
            slotOwner[i] = null;
            slotAddress[i] = 0;
            slotControl[i] = 0;
        }
    }

    private Hardware find(int type, long address, int length) {
        for (Hardware h : slotOwner) {
            if (h != null && h.type() == type && h.address() == address && h.length() == length) {
                return h;
            }
        }
        return null;
    }

    /** [address, size] pieces, each aligned to its size of 1, 2, 4 or 8 bytes. */
    private static List<long[]> pieces(int type, long address, int length) {
        List<long[]> out = new ArrayList<>();
        if (type == EXEC) {
            out.add(new long[] {address, 1});
            return out;
        }
        if (type < WRITE || type > ACCESS || length <= 0 || length > 32) {
            return out;
        }
        long at = address;
        long end = address + length;
        while (at != end && out.size() <= 4) {
            int size = 8;
            while (size > 1 && ((at & (size - 1)) != 0 || Long.compareUnsigned(end - at, size) < 0)) {
                size >>= 1;
            }
            out.add(new long[] {at, size});
            at += size;
        }
        return out.size() > 4 ? List.of() : out;
    }

    private static int rwBits(int type) {
        return switch (type) {
            case EXEC -> 0b00;
            case WRITE -> 0b01;
            default -> 0b11;
        };
    }

    private static int lenBits(int size) {
        return switch (size) {
            case 1 -> 0b00;
            case 2 -> 0b01;
            case 8 -> 0b10;
            default -> 0b11;
        };
    }
}
