package org.jbhyve.devices.usb;

/**
 * BAR0 as bhyve's pci_xhci.c lays it out (xHCI 5.2-5.6), with its capability values:
 *
 * <pre>
 * 0x000 capability registers  CAPLENGTH 0x20, HCIVERSION 0x0100
 *       0x04 HCSPARAMS1  MaxSlots 64, MaxIntrs 1, MaxPorts 8
 *       0x08 HCSPARAMS2  IST 4, ERST Max 0 (one event ring segment), no scratchpads
 *       0x0C HCSPARAMS3  no U1/U2 exit latency
 *       0x10 HCCPARAMS1  AC64, NSS, SPC, MaxPSASize 1, 32-byte contexts, xECP = 0xD00 / 4
 *       0x14 DBOFF 0x4A0   0x18 RTSOFF 0xCC0   0x1C HCCPARAMS2  U3C, LEC
 * 0x020 operational registers (USBCMD ... CONFIG), ports at 0x420 + 0x10 * (port - 1)
 * 0x4A0 doorbells: 0 the command ring, 1-64 the device slots (one dword each)
 * 0xCC0 runtime registers: MFINDEX, interrupter 0 at 0xCE0
 * 0xD00 extended capabilities: Supported Protocol USB 2.0 (ports 5-8), then USB 3.0 (ports 1-4)
 * </pre>
 * Eight root ports, four per protocol: bhyve puts a USB 3 device (its tablet is one: bcdUSB 3.0,
 * high speed) on the next free port of 1-4 and a USB 2 device on 5-8. The Supported Protocol
 * capability (7.2) is what tells a driver which port speaks which protocol:
 *
 * <pre>
 * dw0 revision major (31:24), minor (23:16), next capability in dwords (15:8), id 2 (7:0)
 * dw1 name string "USB "     dw2 port count (15:8), first port (7:0)     dw3 slot type 0
 * </pre>
 */
final class XhciLayout {
    static final int CAPLENGTH = 0x20, HCIVERSION = 0x0100;
    static final int MAX_SLOTS = Commands.MAX_SLOTS, MAX_INTRS = 1, MAX_PORTS = 8;
    static final int USB3_FIRST_PORT = 1, USB2_FIRST_PORT = MAX_PORTS / 2 + 1, PORTS_PER_PROTOCOL = MAX_PORTS / 2;
    static final int PORTS = 0x400;                               // from the operational base
    static final int PORT_STRIDE = 0x10;
    static final int DBOFF = CAPLENGTH + PORTS + MAX_PORTS * PORT_STRIDE;      // 0x4A0
    static final int RTSOFF = (DBOFF + (MAX_SLOTS + 1) * 32 + 0x1F) & ~0x1F;   // 0xCC0
    static final int XECP = RTSOFF + Interrupter.BASE + 32;                    // 0xD00
    static final int XECP_END = XECP + 4 * 32;
    static final int BAR_SIZE = Integer.highestOneBit(XECP_END - 1) << 1;      // 0x1000

    static final int HCSPARAMS1 = MAX_PORTS << 24 | MAX_INTRS << 8 | MAX_SLOTS;
    static final int HCSPARAMS2 = 0 << 4 | 4;                    // ERST Max 0, IST 4
    static final int HCSPARAMS3 = 0;
    static final int HCCPARAMS1 = (XECP / 4) << 16 | 1 << 12 /* MaxPSASize */ | 1 << 9 /* SPC */
            | 1 << 7 /* NSS */ | 1 /* AC64 */;
    static final int HCCPARAMS2 = 1 << 4 /* LEC */ | 1 /* U3C */;

    static final int PROTOCOL_ID = 2, NAME_USB = 0x20425355;     // "USB "

    private XhciLayout() {}

    /** A capability register (dword at {@code offset} below {@link #CAPLENGTH}). */
    static int capability(int offset) {
        return switch (offset) {
            case 0x00 -> HCIVERSION << 16 | CAPLENGTH;
            case 0x04 -> HCSPARAMS1;
            case 0x08 -> HCSPARAMS2;
            case 0x0C -> HCSPARAMS3;
            case 0x10 -> HCCPARAMS1;
            case 0x14 -> DBOFF;
            case 0x18 -> RTSOFF;
            case 0x1C -> HCCPARAMS2;
            default -> 0;
        };
    }

    /** A dword of the extended capabilities at {@code offset} from {@link #XECP}. */
    static int extended(int offset) {
        return switch (offset) {
            case 0x00 -> 0x02 << 24 | 4 << 8 | PROTOCOL_ID;              // USB 2.0, next in 4 dwords
            case 0x04, 0x14 -> NAME_USB;
            case 0x08 -> PORTS_PER_PROTOCOL << 8 | USB2_FIRST_PORT;
            case 0x10 -> 0x03 << 24 | PROTOCOL_ID;                       // USB 3.0, the last one
            case 0x18 -> PORTS_PER_PROTOCOL << 8 | USB3_FIRST_PORT;
            default -> 0;
        };
    }
}
