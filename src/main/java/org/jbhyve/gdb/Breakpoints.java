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
 * <h2>Software breakpoints: a debug register first, int3 when none is free</h2>
 * gdb's {@code break} sends {@code Z0}, which only asks that execution stop at an address, not
 * how. The server backs a {@code Z0} with a free debug-register slot as an instruction
 * breakpoint (R/W 00, LEN 00) and plants nothing in guest memory; only when all four slots are
 * in use does it plant {@code int3}. Why the registers first: an int3 works only where KVM
 * sees the guest's #BP, and not every KVM does. Under a KVM that itself runs on QEMU's TCG
 * (SVM emulated), TCG checks the software-interrupt intercept for {@code int3} rather than the
 * #BP exception intercept, so KVM never hears of it and the guest takes its own #BP; and
 * where KVM emulates guest code its emulator has no int3 at all (an emulation failure, which
 * the server recognises at a planted address). Debug-register breakpoints have trapped on every
 * KVM tried, so they are the default; the int3 is the fallback for breakpoint number five.
 *
 * <p>Hardware requests ({@code Z1}-{@code Z4}) are never refused because of software ones: when
 * they need a slot and none is free, slots held by {@code Z0}s are given up, each such
 * {@code Z0} turning into a planted int3 (all vCPUs are stopped while any Z packet is handled,
 * so planting is safe). A slot-backed {@code Z0} that is hit reports DR6 with its slot's bit;
 * {@link #hardwareHit} names it with type {@link #SOFTWARE}, and the stop is reported exactly
 * like an int3 of ours ({@code swbreak:}). An instruction breakpoint is a fault: it traps
 * before the instruction runs, with RIP at the breakpoint, so no PC adjustment is needed
 * (none is needed for our int3 either: KVM reports the #BP, and its emulator the failure, with
 * RIP at the 0xCC). Resuming a vCPU standing on it would trap again at once; the session sets
 * RFLAGS.RF for that vCPU, which suppresses instruction breakpoints for one instruction
 * (SDM vol. 3, 18.3.1.1).
 *
 * <p>A slot matches a linear address, a plant a physical byte: a planted int3 is hit through
 * every mapping of its byte, a slot-backed breakpoint only at the linear address gdb gave (as
 * {@code hbreak} always was).
 *
 * <h2>Planted int3s</h2>
 * A plant replaces the instruction's first byte in guest RAM with {@code int3} (0xCC), keyed by
 * the physical address the debugger's (linear) address mapped to when it was set; the original
 * byte is kept, so reads through the debugger show it ({@link #overlay}), and writes through the
 * debugger over a planted byte change the kept byte instead ({@link #mask}). Two addresses
 * mapping to one physical byte share one plant. Removing restores the byte only if the guest
 * has not overwritten the 0xCC meanwhile.
 *
 * <h2>Debug registers</h2>
 * Hardware breakpoints and watchpoints ({@code Z1}-{@code Z4}) use the four debug address
 * registers. DR7 (SDM vol. 3, 18.2.4) has per slot i: Gi (bit 2i+1) global enable, R/Wi (bits
 * 16+4i, 2 bits: 00 execute, 01 write, 11 read or write) and LENi (bits 18+4i: 00 one byte, 01
 * two, 11 four, 10 eight, the address aligned to it). x86 has no read-only watch: {@code Z3} uses
 * 11 like {@code Z4}. A watched range that is unaligned or longer than 8 bytes takes several
 * slots.
 *
 * <p>Thread-safe: vCPU threads ask {@link #plantedAt} and {@link #hardwareHit} while the session
 * edits.
 */
final class Breakpoints {
    static final byte INT3 = (byte) 0xCC;
    static final int MAX_SOFTWARE = 4096;
    /** gdb's breakpoint types; {@link #SOFTWARE} in a slot is a {@code Z0} backed by it. */
    static final int SOFTWARE = 0, EXEC = 1, WRITE = 2, READ = 3, ACCESS = 4;

    /** A planted byte and how many breakpoint addresses share it. */
    private static final class Plant {
        byte original;
        int users;

        Plant(byte original) {
            this.original = original;
        }
    }

    /**
     * What holds debug-register slots: a hardware breakpoint or watchpoint (gdb's type 1-4), or
     * a software breakpoint backed by one slot (type {@link #SOFTWARE}, length 1); its address,
     * length and slots.
     */
    record Hardware(int type, long address, int length, List<Integer> slots) {}

    private final GuestMemory memory;
    private final Map<Long, Long> software = new LinkedHashMap<>(); // address -> physical, slot-backed or planted
    private final Map<Long, Plant> planted = new HashMap<>();       // physical -> plant
    private final Hardware[] slotOwner = new Hardware[4];
    private final long[] slotAddress = new long[4];
    private final int[] slotControl = new int[4]; // R/W and LEN bits, 4 bits per slot

    Breakpoints(GuestMemory memory) {
        this.memory = memory;
    }

    /**
     * Sets a software breakpoint at {@code address}, which maps to {@code physical}: in a free
     * debug-register slot when there is one, else as a planted int3. Setting the same address
     * again is allowed and changes nothing.
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
        memory.getByte(physical); // RAM, or the exception: it must be plantable later
        int slot = freeSlot();
        if (slot >= 0) {
            slotOwner[slot] = new Hardware(SOFTWARE, address, 1, List.of(slot));
            slotAddress[slot] = address;
            slotControl[slot] = 0; // R/W 00 (execute), LEN 00 (one byte)
        } else {
            plant(physical);
        }
        software.put(address, physical);
        return true;
    }

    /** Removes the breakpoint at {@code address}, freeing its slot or its plant; false when there was none. */
    synchronized boolean removeSoftware(long address) {
        Long physical = software.remove(address);
        if (physical == null) {
            return false;
        }
        int slot = softwareSlot(address);
        if (slot >= 0) {
            freeSlot(slot);
        } else {
            unplant(physical);
        }
        return true;
    }

    /** Whether the software breakpoint at {@code address} is held in a debug-register slot. */
    synchronized boolean inSlot(long address) {
        return softwareSlot(address) >= 0;
    }

    private void plant(long physical) {
        Plant p = planted.get(physical);
        if (p == null) {
            p = new Plant(memory.getByte(physical));
            memory.putByte(physical, INT3);
            planted.put(physical, p);
        }
        p.users++;
    }

    private void unplant(long physical) {
        Plant p = planted.get(physical);
        if (--p.users == 0) {
            planted.remove(physical);
            if (memory.getByte(physical) == INT3) {
                memory.putByte(physical, p.original);
            }
        }
    }

    /** The slot backing the software breakpoint at {@code address}, or -1 (planted, or none). */
    private int softwareSlot(long address) {
        for (int i = 0; i < 4; i++) {
            Hardware h = slotOwner[i];
            if (h != null && h.type() == SOFTWARE && h.address() == address) {
                return i;
            }
        }
        return -1;
    }

    private int freeSlot() {
        for (int i = 0; i < 4; i++) {
            if (slotOwner[i] == null) {
                return i;
            }
        }
        return -1;
    }

    private void freeSlot(int slot) {
        slotOwner[slot] = null;
        slotAddress[slot] = 0;
        slotControl[slot] = 0;
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
     * Slots held by software breakpoints are given up when too few are free: those breakpoints
     * are planted as int3s instead.
     *
     * @return false when the debug registers cannot hold it (too many slots held by hardware
     *     breakpoints and watchpoints, bad length)
     */
    synchronized boolean insertHardware(int type, long address, int length) {
        if (type < EXEC || type > ACCESS) {
            return false;
        }
        if (find(type, address, length) != null) {
            return true;
        }
        List<long[]> pieces = pieces(type, address, length);
        List<Integer> free = new ArrayList<>();
        List<Integer> yielding = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            if (slotOwner[i] == null) {
                free.add(i);
            } else if (slotOwner[i].type() == SOFTWARE) {
                yielding.add(i);
            }
        }
        if (pieces.isEmpty() || free.size() + yielding.size() < pieces.size()) {
            return false;
        }
        for (int k = 0; free.size() < pieces.size(); k++) {
            int slot = yielding.get(k);
            long softwareAddress = slotOwner[slot].address();
            plant(software.get(softwareAddress)); // first, so a failure leaves the slot as it was
            freeSlot(slot);
            free.add(slot);
        }
        free.sort(null);
        free = free.subList(0, pieces.size());
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
            freeSlot(slot);
        }
        return true;
    }

    /**
     * What holds the slot DR6 (bits 0-3) reports hit: a hardware breakpoint or watchpoint, or a
     * slot-backed software breakpoint (type {@link #SOFTWARE}); null when the slot is not ours.
     */
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
        return new GuestDebug(!planted.isEmpty(), any, slotAddress, dr7);
    }

    /** Removes every breakpoint and watchpoint, putting the original bytes back. */
    synchronized void clear() {
        for (Long address : List.copyOf(software.keySet())) {
            removeSoftware(address);
        }
        for (int i = 0; i < 4; i++) {
            freeSlot(i);
        }
    }

    private Hardware find(int type, long address, int length) {
        for (Hardware h : slotOwner) { // type 1-4: a slot-backed software breakpoint never matches
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
