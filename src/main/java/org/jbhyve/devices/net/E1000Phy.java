package org.jbhyve.devices.net;

import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The 82545EM's internal Marvell 88E1011 PHY as seen through MDIC: a copper link that is always
 * up at 1000 Mb/s full duplex with auto-negotiation complete. Writes are kept (drivers read back
 * what they advertised); the reset bit clears itself.
 *
 * <pre>
 * 0x00 control (BMCR)      0x01 status (BMSR)       0x02/0x03 PHY id 0x0141/0x0C2x
 * 0x04 autoneg advertise   0x05 link partner        0x09 1000BASE-T control
 * 0x0A 1000BASE-T status   0x11 M88 PHY-specific status (speed, duplex, link)
 * </pre>
 */
final class E1000Phy {
    static final int ID1 = 0x0141;
    static final int ID2 = 0x0C20 | 4; // M88E1011_I_PHY_ID with revision 4, as bhyve
    private static final int BMCR_RESET = 0x8000;

    private final int[] regs = new int[32];

    E1000Phy() {
        regs[0x00] = 0x1140;   // autoneg enable, full duplex, 1000 Mb/s
        regs[0x04] = 0x01E1;   // 10/100 half/full, selector 802.3
        regs[0x09] = 0x0300;   // 1000BASE-T half/full
    }

    int read(int reg) {
        return switch (reg & 0x1F) {
            case 0x01 -> 0x796D;  // 100/10 caps, extended status, autoneg complete+capable, link up
            case 0x02 -> ID1;
            case 0x03 -> ID2;
            case 0x05 -> 0;       // link partner ability: none advertised (bhyve)
            case 0x0A -> 0x3800;  // local and remote receiver OK, partner 1000 full duplex
            case 0x11 -> 0xAC00;  // 1000 Mb/s, full duplex, resolved, link up
            default -> regs[reg & 0x1F];
        };
    }

    void write(int reg, int value) {
        regs[reg & 0x1F] = reg == 0 ? value & ~BMCR_RESET : value & 0xFFFF;
    }

    /** Snapshot layout: the 32 register values as written (the fixed ones are not read from them). */
    void save(StateWriter out) {
        out.ints(regs);
    }

    void restore(StateReader in) {
        int[] saved = in.ints(regs.length);
        for (int v : saved) {
            if (v < 0 || v > 0xFFFF) {
                throw in.invalid("a PHY register is 0x" + Integer.toHexString(v));
            }
        }
        System.arraycopy(saved, 0, regs, 0, regs.length);
    }
}
