package org.jbhyve.devices.net;

import static org.jbhyve.devices.net.E1000Registers.DESCRIPTOR_SIZE;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_DEXT;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_EOP;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_IC;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_IFCS;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_IP;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_RS;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_TCP;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_TSE;
import static org.jbhyve.devices.net.E1000Registers.TXD_CMD_VLE;
import static org.jbhyve.devices.net.E1000Registers.TXD_DTYP_C;
import static org.jbhyve.devices.net.E1000Registers.TXD_DTYP_D;
import static org.jbhyve.devices.net.E1000Registers.TXD_DTYP_MASK;
import static org.jbhyve.devices.net.E1000Registers.TXD_POPTS_IXSM;
import static org.jbhyve.devices.net.E1000Registers.TXD_POPTS_TXSM;
import static org.jbhyve.devices.net.E1000Registers.TXD_STAT_DD;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The transmit descriptor ring walk: gathers each packet's buffers, applies checksum offload and
 * TCP/UDP segmentation (TSO) as the context descriptor says, and hands finished frames on.
 *
 * <pre>
 * legacy descriptor (DEXT=0)      buffer address (8) | length:16 cso:8 cmd:8 | status:8 css:8 special:16
 * context descriptor (DEXT, DTYP=0) ipcss:8 ipcso:8 ipcse:16 | tucss:8 tucso:8 tucse:16
 *                                 | paylen:20 dtyp:4 tucmd:8 | status:8 hdrlen:8 mss:16
 * data descriptor (DEXT, DTYP=1)  buffer address (8) | length:20 dtyp:4 dcmd:8 | status:8 popts:8 special:16
 * cmd: EOP end of packet, IFCS insert FCS, IC/TSE checksum/segmentation, RS report status (DD),
 *      DEXT extended, VLE insert VLAN tag
 * </pre>
 *
 * A packet is every descriptor up to one with EOP. If the guest has not yet handed over the EOP
 * descriptor the walk stops before the packet and resumes at the next TDT write. Every address is
 * checked by {@link GuestMemory}; a bad buffer, a mixed packet or a malformed TSO context drops
 * the packet (its descriptors still complete) with a log line, never more.
 */
final class E1000Transmit {
    /** Receives finished frames (no FCS). */
    interface Output {
        void frame(MemorySegment frame, boolean segmented);
    }

    /** Frames longer than this (TSO super-frames included) are dropped. */
    static final int MAX_PACKET = 64 * 1024 + 512;
    private static final int MAX_TSO_HEADER = 240;
    private static final int VLAN_TAG = 4;

    private final GuestMemory memory;
    private final Log log;
    private final MemorySegment packet = Arena.ofAuto().allocate(MAX_PACKET + VLAN_TAG, 8);
    private final MemorySegment segment = Arena.ofAuto().allocate(MAX_PACKET + VLAN_TAG, 8);

    // the last context descriptor
    private int ipcss, ipcso, ipcse, tucss, tucso, tucse, tucmd, paylen, hdrlen, mss;

    // results of the last run
    int head;
    boolean wroteBack;

    interface Log {
        void guestError(String message);
    }

    E1000Transmit(GuestMemory memory, Log log) {
        this.memory = memory;
        this.log = log;
    }

    void resetContext() {
        ipcss = ipcso = ipcse = tucss = tucso = tucse = tucmd = paylen = hdrlen = mss = 0;
    }

    /**
     * Snapshot layout: the offload context as the context descriptor that set it (its first
     * quadword, then the length/command and status/header/MSS dwords); restoring decodes it again,
     * so every field is back in its descriptor's range. Nothing else outlives {@link #run}: a
     * packet whose EOP descriptor the guest has not handed over is not taken, and is gathered
     * again from the ring in guest memory at the next TDT write.
     */
    void save(StateWriter out) {
        long ip = ipcss | ipcso << 8 | (long) ipcse << 16;
        long tu = tucss | tucso << 8 | (long) tucse << 16;
        out.i64(ip | tu << 32).i32(paylen | tucmd).i32(hdrlen << 8 | mss << 16);
    }

    void restore(StateReader in) {
        long first = in.i64();
        int lower = in.i32();
        int upper = in.i32();
        saveContext(first, lower, upper);
    }

    /**
     * Processes descriptors [head, tail) of the ring of {@code size} descriptors at {@code base};
     * afterwards {@link #head} is where it stopped and {@link #wroteBack} says whether a DD was
     * written. {@code vlan} is CTRL.VME, {@code vet} the VLAN EtherType.
     */
    void run(long base, int size, int head, int tail, boolean vlan, int vet, Output out) {
        this.wroteBack = false;
        this.head = head;
        int budget = size;
        while (this.head != tail && budget > 0) {
            int used = packet(base, size, this.head, tail, vlan, vet, out);
            if (used == 0) {
                return; // the EOP descriptor is not there yet
            }
            this.head = (this.head + used) % size;
            budget -= used;
        }
    }

    /** One packet (or context descriptor) from {@code start}; returns descriptors consumed, 0 if incomplete. */
    private int packet(long base, int size, int start, int tail, boolean vlan, int vet, Output out) {
        int idx = start;
        int count = 0;
        int type = -1;
        int css = 0;
        long length = 0;
        boolean ok = true;
        int eopLower = 0;
        int eopUpper = 0;
        String problem = null;
        while (true) {
            if (idx == tail) {
                return 0;
            }
            long d = base + (long) idx * DESCRIPTOR_SIZE;
            long address = memory.getLong(d);
            int lower = memory.getInt(d + 8);
            int upper = memory.getInt(d + 12);
            int dtype = (lower & TXD_CMD_DEXT) != 0 ? lower & (TXD_CMD_DEXT | TXD_DTYP_MASK) : 0;
            if (count == 0 && dtype == (TXD_CMD_DEXT | TXD_DTYP_C)) {
                saveContext(address, lower, upper);
                complete(base, start, 1, size);
                return 1;
            }
            if (count == 0) {
                type = dtype;
                css = (upper >>> 8) & 0xFF;
                if (dtype != 0 && dtype != (TXD_CMD_DEXT | TXD_DTYP_D)) {
                    ok = false;
                    problem = "unknown descriptor type 0x" + Integer.toHexString(lower >>> 20 & 0xFF);
                }
            } else if (dtype != type && ok) {
                ok = false;
                problem = "descriptor types mixed within one packet";
            }
            int len = type == 0 ? lower & 0xFFFF : lower & 0xFFFFF;
            if (ok && len > 0) {
                if (length + len > MAX_PACKET) {
                    ok = false;
                    problem = "packet longer than " + MAX_PACKET + " bytes";
                } else {
                    try {
                        MemorySegment.copy(memory.slice(address, len), 0, packet, length, len);
                        length += len;
                    } catch (GuestMemoryException e) {
                        ok = false;
                        problem = "buffer " + e.getMessage();
                    }
                }
            }
            count++;
            idx = (idx + 1) % size;
            if ((lower & TXD_CMD_EOP) != 0) {
                eopLower = lower;
                eopUpper = upper;
                break;
            }
        }
        if (ok) {
            problem = finish((int) length, type, css, eopLower, eopUpper, vlan, vet, out);
        }
        if (problem != null) {
            log.guestError("transmit packet at descriptor " + start + " dropped: " + problem);
        }
        complete(base, start, count, size);
        return count;
    }

    private void saveContext(long first, int lower, int upper) {
        int ip = (int) first;
        int tu = (int) (first >>> 32);
        ipcss = ip & 0xFF;
        ipcso = (ip >>> 8) & 0xFF;
        ipcse = (ip >>> 16) & 0xFFFF;
        tucss = tu & 0xFF;
        tucso = (tu >>> 8) & 0xFF;
        tucse = (tu >>> 16) & 0xFFFF;
        paylen = lower & 0xFFFFF;
        tucmd = lower & 0xFF000000;
        hdrlen = (upper >>> 8) & 0xFF;
        mss = (upper >>> 16) & 0xFFFF;
    }

    /** Writes DD into every descriptor of the packet that asked for it with RS. */
    private void complete(long base, int start, int count, int size) {
        for (int i = 0, idx = start; i < count; i++, idx = (idx + 1) % size) {
            long d = base + (long) idx * DESCRIPTOR_SIZE;
            if ((memory.getInt(d + 8) & TXD_CMD_RS) != 0) {
                // The buffers were read before the guest may see DD and reuse them.
                VarHandle.releaseFence();
                memory.putByte(d + 12, (byte) (memory.getByte(d + 12) | TXD_STAT_DD));
                wroteBack = true;
            }
        }
    }

    /** Offloads and sends the gathered packet; returns why it was dropped, or null. */
    private String finish(int length, int type, int css, int eopLower, int eopUpper, boolean vlan, int vet,
                          Output out) {
        if ((eopLower & TXD_CMD_IFCS) == 0 && length >= 4) {
            length -= 4; // the guest supplied the FCS itself; the host adds its own
        }
        if (length == 0) {
            return "an empty packet"; // nothing to put on the wire (and no destination to count it by)
        }
        int tag = vlan && (eopLower & TXD_CMD_VLE) != 0 ? eopUpper >>> 16 : -1;
        if (type == 0) {
            if ((eopLower & TXD_CMD_IC) != 0 && !checksum(packet, length, css, (eopLower >>> 16) & 0xFF, 0)) {
                return "checksum offsets outside the packet";
            }
            send(packet, length, tag, vet, out, false);
            return null;
        }
        int popts = (eopUpper >>> 8) & 0xFF;
        if ((eopLower & TXD_CMD_TSE) != 0) {
            return segment(length, popts, tag, vet, out);
        }
        if ((popts & TXD_POPTS_IXSM) != 0 && !checksum(packet, length, ipcss, ipcso, ipcse)) {
            return "IP checksum offsets outside the packet";
        }
        if ((popts & TXD_POPTS_TXSM) != 0 && !checksum(packet, length, tucss, tucso, tucse)) {
            return "TCP/UDP checksum offsets outside the packet";
        }
        send(packet, length, tag, vet, out, false);
        return null;
    }

    /** TCP/UDP segmentation: one frame per mss bytes of payload, headers fixed up for each. */
    private String segment(int length, int popts, int tag, int vet, Output out) {
        boolean tcp = (tucmd & TXD_CMD_TCP) != 0;
        boolean ipv4 = (tucmd & TXD_CMD_IP) != 0;
        if (mss == 0) {
            return "TSO with a zero MSS";
        }
        if (hdrlen > MAX_TSO_HEADER || hdrlen > length) {
            return "TSO header length " + hdrlen + " too large";
        }
        if (hdrlen < ipcss + 6 || hdrlen < ipcso + 2 || hdrlen < tucss + (tcp ? 14 : 8) || hdrlen < tucso + 2) {
            return "TSO header length " + hdrlen + " does not cover the IP and TCP/UDP fields";
        }
        int payload = Math.min(paylen, length - hdrlen);
        int ipid = u16(packet, ipcss + 4);
        long seq = tcp ? Integer.toUnsignedLong(packet.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(
                java.nio.ByteOrder.BIG_ENDIAN), tucss + 4)) : 0;
        int pseudo = u16(packet, tucso); // the driver's pseudo-header sum, without the length
        MemorySegment.copy(packet, 0, segment, 0, hdrlen);
        for (int seg = 0, done = 0; done < payload; seg++) {
            int now = Math.min(mss, payload - done);
            MemorySegment.copy(packet, hdrlen + done, segment, hdrlen, now);
            int total = hdrlen + now;
            if (ipv4) {
                put16(segment, ipcss + 2, hdrlen - ipcss + now);
                put16(segment, ipcss + 4, ipid + seg);
            } else {
                put16(segment, ipcss + 4, hdrlen - ipcss - 40 + now);
            }
            int l4 = hdrlen - tucss + now;
            if (tcp) {
                segment.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), tucss + 4,
                        (int) (seq + done));
                int flags = segment.get(ValueLayout.JAVA_BYTE, tucss + 13);
                boolean last = done + now >= payload;
                segment.set(ValueLayout.JAVA_BYTE, tucss + 13, (byte) (last ? u8(packet, tucss + 13) : flags & ~0x09));
            } else {
                put16(segment, tucss + 4, l4);
            }
            if ((popts & TXD_POPTS_IXSM) != 0 || ipv4) {
                if (ipv4) {
                    put16(segment, ipcso, 0);
                    checksum(segment, total, ipcss, ipcso, ipcse);
                }
            }
            if ((popts & TXD_POPTS_TXSM) != 0) {
                put16(segment, tucso, fold(pseudo + l4));
                checksum(segment, total, tucss, tucso, tucse);
            }
            send(segment, total, tag, vet, out, true);
            done += now;
        }
        return null;
    }

    private void send(MemorySegment buf, int length, int tag, int vet, Output out, boolean segmented) {
        if (tag >= 0 && length >= 12) {
            MemorySegment.copy(buf, 12, buf, 12 + VLAN_TAG, length - 12);
            put16(buf, 12, vet);
            put16(buf, 14, tag);
            length += VLAN_TAG;
        }
        out.frame(buf.asSlice(0, length), segmented);
    }

    /**
     * Internet checksum of [start, end] (end inclusive; 0 means to the end of the packet) stored
     * complemented at {@code offset}; false when the offsets do not lie inside the packet.
     */
    static boolean checksum(MemorySegment buf, int length, int start, int offset, int end) {
        int last = end == 0 ? length - 1 : Math.min(end, length - 1);
        if (start >= length || offset + 2 > length || last < start) {
            return false;
        }
        long sum = 0;
        int i = start;
        for (; i + 1 <= last; i += 2) {
            sum += u16(buf, i);
        }
        if (i == last) {
            sum += u8(buf, i) << 8;
        }
        put16(buf, offset, ~fold(sum) & 0xFFFF);
        return true;
    }

    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    private static int u8(MemorySegment buf, long at) {
        return Byte.toUnsignedInt(buf.get(ValueLayout.JAVA_BYTE, at));
    }

    private static int u16(MemorySegment buf, long at) {
        return u8(buf, at) << 8 | u8(buf, at + 1);
    }

    private static void put16(MemorySegment buf, long at, int value) {
        buf.set(ValueLayout.JAVA_BYTE, at, (byte) (value >>> 8));
        buf.set(ValueLayout.JAVA_BYTE, at + 1, (byte) value);
    }
}
