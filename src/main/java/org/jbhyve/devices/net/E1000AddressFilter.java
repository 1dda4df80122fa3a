package org.jbhyve.devices.net;

import static org.jbhyve.devices.net.E1000Registers.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * Receive destination filtering: the 16 receive-address registers (RAL/RAH at 0x5400, RAH bit
 * 31 = address valid), the 4096-bit multicast table (MTA at 0x5200, indexed by 12 bits of the
 * destination chosen by RCTL.MO), broadcast accept (RCTL.BAM) and the promiscuous modes
 * (RCTL.UPE unicast, RCTL.MPE multicast). Not thread-safe: the device serialises access.
 */
final class E1000AddressFilter {
    private final int[] ral = new int[16];
    private final int[] rah = new int[16];
    private final int[] mta = new int[128];

    /** Power-on reset clears the tables; every reset reloads RAR[0] from the EEPROM's MAC. */
    void reset(boolean powerOn, MacAddress mac) {
        if (powerOn) {
            Arrays.fill(ral, 0);
            Arrays.fill(rah, 0);
            Arrays.fill(mta, 0);
        }
        ral[0] = mac.octet(0) | mac.octet(1) << 8 | mac.octet(2) << 16 | mac.octet(3) << 24;
        rah[0] = mac.octet(4) | mac.octet(5) << 8 | RAH_AV;
    }

    /** Whether {@code offset} is a receive-address or multicast-table register. */
    static boolean covers(int offset) {
        return (offset >= RAL0 && offset < RA_END) || (offset >= MTA && offset < MTA + 512);
    }

    int read(int offset) {
        if (offset >= MTA && offset < MTA + 512) {
            return mta[(offset - MTA) >> 2];
        }
        int i = (offset - RAL0) >> 3;
        return (offset & 4) == 0 ? ral[i] : rah[i];
    }

    void write(int offset, int value) {
        if (offset >= MTA && offset < MTA + 512) {
            mta[(offset - MTA) >> 2] = value;
            return;
        }
        int i = (offset - RAL0) >> 3;
        if ((offset & 4) == 0) {
            ral[i] = value;
        } else {
            rah[i] = value & (RAH_AV | 0x3FFFF);
        }
    }

    /** Snapshot layout: RAL[16], RAH[16], MTA[128]. */
    void save(StateWriter out) {
        out.ints(ral).ints(rah).ints(mta);
    }

    void restore(StateReader in) {
        int[] savedRal = in.ints(ral.length);
        int[] savedRah = in.ints(rah.length);
        int[] savedMta = in.ints(mta.length);
        for (int v : savedRah) {
            if ((v & ~(RAH_AV | 0x3FFFF)) != 0) {
                throw in.invalid("RAH is 0x" + Integer.toHexString(v));
            }
        }
        System.arraycopy(savedRal, 0, ral, 0, ral.length);
        System.arraycopy(savedRah, 0, rah, 0, rah.length);
        System.arraycopy(savedMta, 0, mta, 0, mta.length);
    }

    /** Whether a frame with this destination passes under receive control {@code rctl}. */
    boolean accept(MemorySegment frame, int rctl) {
        if (frame.byteSize() < 6) {
            return false;
        }
        int b0 = Byte.toUnsignedInt(frame.get(ValueLayout.JAVA_BYTE, 0));
        if ((b0 & 1) == 0) {
            if ((rctl & RCTL_UPE) != 0) {
                return true;
            }
            int low = frame.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
            int high = Short.toUnsignedInt(frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4));
            for (int i = 0; i < 16; i++) {
                if ((rah[i] & RAH_AV) != 0 && ral[i] == low && (rah[i] & 0xFFFF) == high) {
                    return true;
                }
            }
            return false;
        }
        if (isBroadcast(frame)) {
            return (rctl & (RCTL_BAM | RCTL_MPE)) != 0;
        }
        if ((rctl & RCTL_MPE) != 0) {
            return true;
        }
        int b4 = Byte.toUnsignedInt(frame.get(ValueLayout.JAVA_BYTE, 4));
        int b5 = Byte.toUnsignedInt(frame.get(ValueLayout.JAVA_BYTE, 5));
        int hash = switch ((rctl >>> 12) & 3) { // RCTL.MO picks which 12 bits of the address
            case 0 -> (b4 >>> 4) | (b5 << 4);
            case 1 -> (b4 >>> 3) | (b5 << 5);
            case 2 -> (b4 >>> 2) | (b5 << 6);
            default -> b4 | (b5 << 8);
        } & 0xFFF;
        return (mta[hash >>> 5] & (1 << (hash & 31))) != 0;
    }

    static boolean isBroadcast(MemorySegment frame) {
        for (int i = 0; i < 6; i++) {
            if (frame.get(ValueLayout.JAVA_BYTE, i) != (byte) 0xFF) {
                return false;
            }
        }
        return true;
    }
}
