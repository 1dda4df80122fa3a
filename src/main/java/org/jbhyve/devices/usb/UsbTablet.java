package org.jbhyve.devices.usb;

import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's {@code tablet} (usb_mouse.c): a USB HID absolute pointer, so the guest's cursor lands
 * where the VNC viewer's is, with no acceleration to fight. It announces itself as USB 3.0 at
 * high speed and sits on a USB 3 root port, as in bhyve; its descriptors are in
 * {@link TabletDescriptors}.
 *
 * <p><b>Input</b>: the console's pointer events ({@link InputRouter.Pointer}, registered with
 * {@link InputRouter#PRIORITY_TABLET} so it wins over the PS/2 mouse) carry the position in
 * framebuffer pixels and the RFB button mask (bit 0 left, 1 middle, 2 right, 3 wheel up, 4
 * wheel down). The report scales the position to 0-0x7FFF as bhyve does
 * ({@code 0x8000 * x / width}), puts the buttons in HID order (left, right, middle) and the
 * wheel as +1/-1. The latest event wins; a report is owed until the guest has read it.
 *
 * <p><b>Endpoint 1 IN</b> (interrupt): answers an owed report (6 bytes) once, and NAKs while
 * nothing moved, so the controller keeps the guest's transfer pending until the next event.
 *
 * <p><b>Control requests</b>: the standard ones (GET_STATUS, CLEAR/SET_FEATURE,
 * SET_ADDRESS, GET_DESCRIPTOR for device, configuration, string and BOS, GET/SET_CONFIGURATION,
 * GET/SET_INTERFACE, SET_SEL, SET_ISOCH_DELAY) and HID's (GET_DESCRIPTOR for the report and HID
 * descriptors, GET_REPORT, GET/SET_IDLE, GET/SET_PROTOCOL, SET_REPORT ignored); anything else
 * STALLs. The report format is the same in boot and report protocol, as in bhyve.
 *
 * <p>Threads: pointer events come from viewer threads, requests from the controller (under
 * its lock). The report and device state are guarded by this object's monitor, which is
 * released before the controller is told that data is ready.
 */
final class UsbTablet implements UsbDevice, InputRouter.Pointer {
    static final String NAME = "tablet";
    static final int ENDPOINT = 1, REPORT_SIZE = 6, SPEED_HIGH = 3;
    static final int MAX_COORDINATE = 0x7FFF;
    // HID class requests (HID 1.11, 7.2)
    static final int GET_REPORT = 0x01, GET_IDLE = 0x02, GET_PROTOCOL = 0x03, SET_REPORT = 0x09;
    static final int SET_IDLE = 0x0A, SET_PROTOCOL = 0x0B;
    static final int FEATURE_ENDPOINT_HALT = 0, FEATURE_REMOTE_WAKEUP = 1;

    private final byte[] report = new byte[REPORT_SIZE];
    private boolean owed;
    private int address;
    private int configuration;
    private int idle;
    private int protocol = 1;
    private boolean remoteWakeup;
    private volatile WakeUp wakeUp;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean usb3() {
        return true;
    }

    @Override
    public int speed() {
        return SPEED_HIGH;
    }

    @Override
    public void setWakeUp(WakeUp wakeUp) {
        this.wakeUp = wakeUp;
    }

    @Override
    public synchronized void reset() {
        owed = false;
        address = 0;
        configuration = 0;
        idle = 0;
        protocol = 1;
        remoteWakeup = false;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * Layout (version 1): the latest report (6 bytes) and whether it is owed to the guest
     * (bool) — the tablet keeps no queue, the latest position wins —, the USB address,
     * configuration, idle rate and protocol (u8 each), remote wake-up enabled (bool).
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        out.raw(report, 0, REPORT_SIZE).bool(owed).u8(address).u8(configuration).u8(idle).u8(protocol)
                .bool(remoteWakeup);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        byte[] savedReport = in.raw(REPORT_SIZE);
        boolean savedOwed = in.bool();
        int savedAddress = in.u8();
        int savedConfiguration = in.u8();
        if (savedAddress > 0x7F || savedConfiguration > 1) {
            throw in.invalid("the tablet has address " + savedAddress + ", configuration " + savedConfiguration);
        }
        System.arraycopy(savedReport, 0, report, 0, REPORT_SIZE);
        owed = savedOwed;
        address = savedAddress;
        configuration = savedConfiguration;
        idle = in.u8();
        protocol = in.u8();
        remoteWakeup = in.bool();
    }

    /** The USB address SET_ADDRESS gave (0 before), for tests. */
    synchronized int address() {
        return address;
    }

    /** A viewer's pointer event; see the class comment for the mapping. */
    @Override
    public void pointer(int buttons, int x, int y, int width, int height) {
        if (width <= 0 || height <= 0) {
            return;                                   // no screen to be relative to
        }
        synchronized (this) {
            report[0] = (byte) ((buttons & 1) | (buttons & 4) >> 1 | (buttons & 2) << 1);
            int sx = scale(x, width);
            int sy = scale(y, height);
            report[1] = (byte) sx;
            report[2] = (byte) (sx >>> 8);
            report[3] = (byte) sy;
            report[4] = (byte) (sy >>> 8);
            report[5] = (byte) ((buttons & 8) != 0 ? 1 : (buttons & 16) != 0 ? -1 : 0);
            owed = true;
        }
        WakeUp w = wakeUp;
        if (w != null) {
            w.dataReady(ENDPOINT);
        }
    }

    /** Pixel {@code v} of {@code extent} as a coordinate 0-0x7FFF (bhyve's 0x8000 * v / extent). */
    static int scale(int v, int extent) {
        long s = 0x8000L * v / extent;
        return (int) Math.max(0, Math.min(MAX_COORDINATE, s));
    }

    @Override
    public synchronized UsbResponse in(int endpoint, int length) {
        if (endpoint != ENDPOINT) {
            return UsbResponse.STALL;
        }
        if (!owed || configuration == 0) {
            return UsbResponse.NAK;
        }
        owed = false;
        return UsbResponse.data(report.clone());
    }

    @Override
    public synchronized UsbResponse control(SetupPacket s, byte[] out) {
        int len = s.length();
        return switch (s.requestType() << 8 | s.request()) {
            case SetupPacket.DEVICE_IN << 8 | SetupPacket.GET_STATUS ->
                    UsbResponse.data(new byte[] {(byte) (remoteWakeup ? 2 : 0), 0}, len);
            case SetupPacket.INTERFACE_IN << 8 | SetupPacket.GET_STATUS,
                 SetupPacket.ENDPOINT_IN << 8 | SetupPacket.GET_STATUS -> UsbResponse.data(new byte[2], len);
            case SetupPacket.DEVICE_OUT << 8 | SetupPacket.CLEAR_FEATURE,
                 SetupPacket.DEVICE_OUT << 8 | SetupPacket.SET_FEATURE -> {
                if (s.value() == FEATURE_REMOTE_WAKEUP) {
                    remoteWakeup = s.request() == SetupPacket.SET_FEATURE;
                }
                yield UsbResponse.EMPTY;                  // U1/U2/LTM enables are accepted
            }
            case SetupPacket.ENDPOINT_OUT << 8 | SetupPacket.CLEAR_FEATURE ->
                    s.value() == FEATURE_ENDPOINT_HALT && (s.index() & 0x7F) <= ENDPOINT
                            ? UsbResponse.EMPTY : UsbResponse.STALL;
            case SetupPacket.DEVICE_OUT << 8 | SetupPacket.SET_ADDRESS -> {
                address = s.value() & 0x7F;
                yield UsbResponse.EMPTY;
            }
            case SetupPacket.DEVICE_IN << 8 | SetupPacket.GET_DESCRIPTOR -> deviceDescriptor(s);
            case SetupPacket.INTERFACE_IN << 8 | SetupPacket.GET_DESCRIPTOR -> switch (s.descriptorType()) {
                case TabletDescriptors.REPORT -> UsbResponse.data(TabletDescriptors.REPORT_DESCRIPTOR, len);
                case TabletDescriptors.HID -> UsbResponse.data(TabletDescriptors.HID_DESCRIPTOR, len);
                default -> UsbResponse.STALL;
            };
            case SetupPacket.DEVICE_IN << 8 | SetupPacket.GET_CONFIGURATION ->
                    UsbResponse.data(new byte[] {(byte) configuration}, len);
            case SetupPacket.DEVICE_OUT << 8 | SetupPacket.SET_CONFIGURATION -> {
                if (s.value() > 1) {
                    yield UsbResponse.STALL;
                }
                configuration = s.value();
                yield UsbResponse.EMPTY;
            }
            case SetupPacket.INTERFACE_IN << 8 | SetupPacket.GET_INTERFACE ->
                    s.index() == 0 ? UsbResponse.data(new byte[1], len) : UsbResponse.STALL;
            case SetupPacket.INTERFACE_OUT << 8 | SetupPacket.SET_INTERFACE ->
                    s.index() == 0 && s.value() == 0 ? UsbResponse.EMPTY : UsbResponse.STALL;
            case SetupPacket.DEVICE_OUT << 8 | SetupPacket.SET_SEL,
                 SetupPacket.DEVICE_OUT << 8 | SetupPacket.SET_ISOCH_DELAY -> UsbResponse.EMPTY;
            case SetupPacket.CLASS_INTERFACE_IN << 8 | GET_REPORT ->
                    s.descriptorType() == 1 && len >= REPORT_SIZE
                            ? UsbResponse.data(report.clone(), len) : UsbResponse.STALL;
            case SetupPacket.CLASS_INTERFACE_IN << 8 | GET_IDLE -> UsbResponse.data(new byte[] {(byte) idle}, len);
            case SetupPacket.CLASS_INTERFACE_IN << 8 | GET_PROTOCOL ->
                    UsbResponse.data(new byte[] {(byte) protocol}, len);
            case SetupPacket.CLASS_INTERFACE_OUT << 8 | SET_REPORT -> UsbResponse.EMPTY;
            case SetupPacket.CLASS_INTERFACE_OUT << 8 | SET_IDLE -> {
                idle = s.value() >>> 8;
                yield UsbResponse.EMPTY;
            }
            case SetupPacket.CLASS_INTERFACE_OUT << 8 | SET_PROTOCOL -> {
                protocol = s.value() & 0xFF;
                yield UsbResponse.EMPTY;
            }
            default -> UsbResponse.STALL;
        };
    }

    private static UsbResponse deviceDescriptor(SetupPacket s) {
        int len = s.length();
        return switch (s.descriptorType()) {
            case TabletDescriptors.DEVICE -> s.descriptorIndex() == 0
                    ? UsbResponse.data(TabletDescriptors.DEVICE_DESCRIPTOR, len) : UsbResponse.STALL;
            case TabletDescriptors.CONFIGURATION -> s.descriptorIndex() == 0
                    ? UsbResponse.data(TabletDescriptors.CONFIGURATION_DESCRIPTOR, len) : UsbResponse.STALL;
            case TabletDescriptors.STRING -> {
                byte[] d = TabletDescriptors.string(s.descriptorIndex());
                yield d == null ? UsbResponse.STALL : UsbResponse.data(d, len);
            }
            case TabletDescriptors.BOS -> UsbResponse.data(TabletDescriptors.BOS_DESCRIPTOR, len);
            default -> UsbResponse.STALL;             // device qualifier, other speed...
        };
    }
}
