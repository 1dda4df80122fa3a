package org.jbhyve.devices.usb;

import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * One root hub port (xHCI 4.19, 5.4.8): four registers at operational offset
 * 0x400 + 0x10 * (port - 1): PORTSC, PORTPMSC, PORTLI, PORTHLPMC.
 *
 * <pre>
 * PORTSC bit 0  CCS current connect status (RO)      bit 1  PED port enabled (USB2: write 1 disables)
 *        bit 4  PR  port reset (write 1 starts it)   bits 8:5 PLS link state (written with LWS)
 *        bit 9  PP  port power (1: no power switches) bits 13:10 speed (1 FS, 2 LS, 3 HS, 4 SS)
 *        bit 16 LWS link state write strobe          bits 23:17 change bits, write 1 to clear:
 *               CSC connect, PEC enable, WRC warm reset, OCC over-current, PRC reset, PLC link
 *               state, CEC config error
 *        bits 27:25 wake on connect/disconnect/over-current (RW)   bit 31 WPR warm reset (USB3)
 * </pre>
 * Link states: 0 U0 (active), 3 U3 (suspended), 5 RxDetect (nothing attached), 7 Polling, 15
 * Resume. Like bhyve: a USB3-protocol port with a device is enabled in U0 from the start, a
 * USB2-protocol port waits in Polling until software resets it; a reset completes at once.
 *
 * <p>Change bits raise a Port Status Change Event only when the first of them is set (the
 * PSCEG rule of 4.19.2): methods that change state return whether one is due, and the controller
 * posts it. Not thread-safe: the controller's lock guards it.
 */
final class RootPort {
    static final int PORTSC = 0, PORTPMSC = 4, PORTLI = 8, PORTHLPMC = 12;
    static final int CCS = 1, PED = 1 << 1, OCA = 1 << 3, PR = 1 << 4, PP = 1 << 9, LWS = 1 << 16;
    static final int CSC = 1 << 17, PEC = 1 << 18, WRC = 1 << 19, OCC = 1 << 20, PRC = 1 << 21;
    static final int PLC = 1 << 22, CEC = 1 << 23, WPR = 1 << 31;
    static final int CHANGES = CSC | PEC | WRC | OCC | PRC | PLC | CEC;
    static final int WAKE_BITS = 0x7 << 25;
    static final int PLS_SHIFT = 5, SPEED_SHIFT = 10;
    static final int U0 = 0, U3 = 3, RX_DETECT = 5, POLLING = 7, RESUME = 15;

    private final int number;
    private final boolean usb3;
    private final UsbDevice device;
    private int portsc;
    private int pmsc;
    private int hlpmc;

    /** Port {@code number} (from 1) of the USB3 or USB2 protocol range, with {@code device} or null. */
    RootPort(int number, boolean usb3, UsbDevice device) {
        this.number = number;
        this.usb3 = usb3;
        this.device = device;
        reset();
    }

    int number() {
        return number;
    }

    boolean usb3() {
        return usb3;
    }

    /** The attached device, or null. */
    UsbDevice device() {
        return device;
    }

    /** Whether a device is attached and the port enabled, so transfers reach it. */
    boolean enabled() {
        return device != null && (portsc & PED) != 0;
    }

    int linkState() {
        return portsc >>> PLS_SHIFT & 0xF;
    }

    /** State after power-on and controller reset (bhyve's pci_xhci_init_port). */
    void reset() {
        pmsc = 0;
        hlpmc = 0;
        if (device == null) {
            portsc = PP | RX_DETECT << PLS_SHIFT;
        } else if (usb3) {
            portsc = CCS | PP | PED | U0 << PLS_SHIFT | device.speed() << SPEED_SHIFT;
        } else {
            portsc = CCS | PP | POLLING << PLS_SHIFT | device.speed() << SPEED_SHIFT;
        }
    }

    /** Snapshot layout: PORTSC, PORTPMSC, PORTHLPMC (u32); the device is the controller's to save. */
    void save(StateWriter out) {
        out.i32(portsc).i32(pmsc).i32(hlpmc);
    }

    void restore(StateReader in) {
        portsc = in.i32();
        pmsc = in.i32();
        hlpmc = in.i32();
    }

    int read(int register) {
        return switch (register) {
            case PORTSC -> portsc;
            case PORTPMSC -> pmsc;
            case PORTHLPMC -> hlpmc;
            default -> 0;                  // PORTLI: no link errors
        };
    }

    /** A guest write; returns whether a Port Status Change Event is due. */
    boolean write(int register, int value) {
        switch (register) {
            case PORTPMSC -> pmsc = value;
            case PORTHLPMC -> hlpmc = usb3 ? 0 : value;
            case PORTSC -> {
                return writePortsc(value);
            }
            default -> { }
        }
        return false;
    }

    private boolean writePortsc(int value) {
        if ((value & (PR | WPR)) != 0) {
            portsc &= ~(value & CHANGES);
            return portReset((value & WPR) != 0 && usb3);
        }
        portsc &= ~(value & CHANGES);
        portsc = (portsc & ~WAKE_BITS) | (value & WAKE_BITS);
        if ((value & PED) != 0 && !usb3) {
            portsc &= ~PED;                          // software disables a USB2 port
        }
        if ((value & LWS) == 0 || device == null) {
            return false;
        }
        int old = linkState();
        int wanted = value >>> PLS_SHIFT & 0xF;
        if ((wanted != U0 && wanted != U3) || wanted == old || (portsc & PED) == 0) {
            return false;
        }
        setLinkState(wanted);
        // Resume finishing (U3 or Resume to U0) is reported; entering U3 on request is not.
        return wanted == U0 && change(PLC);
    }

    /** Port or warm reset: the device is reset and the port enabled in U0. */
    private boolean portReset(boolean warm) {
        portsc &= ~(PR | WPR);
        if (device == null) {
            return false;
        }
        device.reset();
        portsc = (portsc & ~(0xF << SPEED_SHIFT)) | PED | device.speed() << SPEED_SHIFT;
        setLinkState(U0);
        return change(warm ? PRC | WRC : PRC);
    }

    /**
     * The controller went from stopped to running: an attached device is reported as newly
     * connected (bhyve's pci_xhci_usbcmd_write), its USB2 port polling, its USB3 port in U0.
     */
    boolean controllerStarted() {
        if (device == null) {
            return false;
        }
        portsc |= CCS;
        setLinkState(usb3 ? U0 : (portsc & PED) != 0 ? linkState() : POLLING);
        return change(CSC);
    }

    /**
     * The device has data while its link is suspended: remote wake-up (4.15.2.3) moves the link
     * to Resume and reports it, and software answers by writing U0.
     */
    boolean remoteWake() {
        if (linkState() != U3) {
            return false;
        }
        setLinkState(RESUME);
        return change(PLC);
    }

    private void setLinkState(int pls) {
        portsc = (portsc & ~(0xF << PLS_SHIFT)) | pls << PLS_SHIFT;
    }

    /** Sets change bits; a Port Status Change Event is due if none was set before. */
    private boolean change(int bits) {
        boolean first = (portsc & CHANGES) == 0;
        portsc |= bits;
        return first;
    }
}
