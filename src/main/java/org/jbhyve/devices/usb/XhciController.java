package org.jbhyve.devices.usb;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.GuestErrorLog;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's {@code xhci}: an xHCI 1.0 USB 3 host controller presented as bhyve presents it, as
 * Intel's 7 Series xHCI (8086:1E31, class 0C/03/30, SBRN 0x30 at config offset 0x60), with
 * BAR0 a 32-bit memory BAR laid out as in {@link XhciLayout}, one MSI message and INTA.
 *
 * <pre>
 * operational registers (BAR0 + 0x20)
 * 0x00 USBCMD   bit 0 R/S run, bit 1 HCRST reset (self-clearing), bit 2 INTE, bit 3 HSEE
 * 0x04 USBSTS   bit 0 HCH halted, bit 2 HSE host system error, bit 3 EINT, bit 4 PCD port
 *               change (HSE, EINT, PCD write 1 to clear), bit 11 CNR (always ready)
 * 0x08 PAGESIZE 1 (4 KiB)       0x14 DNCTRL  notification enables (kept)
 * 0x18 CRCR     command ring control ({@link CommandRing})
 * 0x30 DCBAAP   device context base address array (63:6)
 * 0x38 CONFIG   MaxSlotsEn (7:0)
 * </pre>
 * Doorbell 0 runs the command ring ({@link CommandRing}, {@link Commands}); doorbell {@code n}
 * (target = DCI) serves an endpoint's transfer ring ({@link Transfers}); every event goes to
 * interrupter 0 ({@link Interrupter}). Nothing runs while halted. Starting the controller reports every
 * attached device with a connect change and a Port Status Change Event, as bhyve does.
 *
 * <p>Interrupts ({@link InterruptPath}): with MSI enabled, interrupter 0's IP sends the message
 * while IE and INTE are set (and clears itself); otherwise INTx is high while IP, IE and INTE are.
 *
 * <p>Hostile guests: registers take dword accesses (and qword ones as two dwords, low first);
 * others are ignored. Guest structures are checked before use; a broken ring or context fails
 * its command or transfer with a completion code, and an event ring that does not exist when
 * an event is due sets HSE and halts the controller. Nothing a guest writes throws out of the
 * device.
 *
 * <p>Threads: registers are accessed from vCPU threads, device wake-ups come from the
 * devices' threads (the VNC viewer's, for the tablet). All state is guarded by this object's
 * monitor (also the config-space lock of {@link PciFunction}); devices are called with it
 * held and must not call back while holding their own locks.
 *
 * <p>Snapshots: see {@link #saveState} for the layout. Device contexts and rings live in guest
 * RAM and come back with it; what is saved is the controller's side of them. {@link #quiesce}
 * holds device wake-ups (a tablet report waits in the tablet) until {@link #resumeAfterSnapshot},
 * so nothing is written to guest memory while a snapshot is taken.
 */
public final class XhciController extends PciFunction implements Snapshottable, AutoCloseable {
    public static final int VENDOR = 0x8086, DEVICE = 0x1E31, CLASS_XHCI = 0x0C0330;
    static final int SBRN = 0x60, USB_3_0 = 0x30;
    static final int USBCMD = 0x00, USBSTS = 0x04, PAGESIZE = 0x08, DNCTRL = 0x14, CRCR_LO = 0x18;
    static final int CRCR_HI = 0x1C, DCBAAP_LO = 0x30, DCBAAP_HI = 0x34, CONFIG = 0x38;
    static final int CMD_RS = 1, CMD_HCRST = 1 << 1, CMD_INTE = 1 << 2, CMD_HSEE = 1 << 3;
    static final int CMD_KEPT = CMD_RS | CMD_INTE | CMD_HSEE | 1 << 10 | 1 << 11;   // + EWE, EU3S
    static final int STS_HCH = 1, STS_HSE = 1 << 2, STS_EINT = 1 << 3, STS_PCD = 1 << 4, STS_SRE = 1 << 10;
    private static final LazyLogger LOG = new LazyLogger(XhciController.class);

    private final InterruptPath interrupt;
    private final RootPort[] ports = new RootPort[XhciLayout.MAX_PORTS];
    private final Interrupter interrupter;
    private final Commands commands;
    private final Transfers transfers;
    private final CommandRing commandRing;
    private final LongSupplier nanoClock;
    private int usbcmd;
    private int usbsts;
    private int dnctrl;
    private int configure;
    private long dcbaap;
    private long mfindexBase;
    private int mfindexStopped;
    private boolean closed;
    private boolean quiesced;
    private final Set<HeldWakeUp> heldWakeUps = new LinkedHashSet<>();
    private final GuestErrorLog guestErrors = new GuestErrorLog(LOG, this::name);

    /**
     * A controller with {@code devices} on its root ports in order: USB 3 devices on ports 1-4,
     * USB 2 devices on ports 5-8 (bhyve's assignment). DMA goes through {@code memory}.
     *
     * @throws IllegalArgumentException with more than four devices of one kind
     */
    XhciController(List<UsbDevice> devices, GuestMemory memory, PciInterrupts interrupts) {
        this(devices, memory, interrupts, System::nanoTime);
    }

    /** As above, with MFINDEX counting on {@code nanoClock} (tests stop time with it). */
    XhciController(List<UsbDevice> devices, GuestMemory memory, PciInterrupts interrupts, LongSupplier nanoClock) {
        super(new PciConfigSpace(VENDOR, DEVICE, CLASS_XHCI, 0));
        this.nanoClock = nanoClock;
        int usb3 = 0;
        int usb2 = 0;
        for (UsbDevice d : devices) {
            int n = d.usb3() ? XhciLayout.USB3_FIRST_PORT + usb3++ : XhciLayout.USB2_FIRST_PORT + usb2++;
            if (usb3 > XhciLayout.PORTS_PER_PROTOCOL || usb2 > XhciLayout.PORTS_PER_PROTOCOL) {
                throw new IllegalArgumentException("pci_xhci max number of USB " + (d.usb3() ? 3 : 2)
                        + " devices reached, max " + XhciLayout.PORTS_PER_PROTOCOL);
            }
            RootPort port = new RootPort(n, d.usb3(), d);
            ports[n - 1] = port;
            d.setWakeUp(endpoint -> dataReady(port, endpoint));
        }
        for (int n = 1; n <= ports.length; n++) {
            if (ports[n - 1] == null) {
                ports[n - 1] = new RootPort(n, n < XhciLayout.USB2_FIRST_PORT, null);
            }
        }
        config.put8(SBRN, USB_3_0);
        config.put8(PciConfigSpace.INTERRUPT_PIN, 1);
        this.interrupt = new InterruptPath(config, interrupts);
        this.interrupter = new Interrupter(memory, this::signal);
        this.commands = new Commands(memory, new Commands.Host() {
            @Override
            public int slotsEnabled() {
                return configure & 0xFF;
            }

            @Override
            public long dcbaap() {
                return dcbaap;
            }

            @Override
            public RootPort port(int n) {
                return n >= 1 && n <= ports.length ? ports[n - 1] : null;
            }
        });
        this.transfers = new Transfers(memory, this::post);
        this.commandRing = new CommandRing(new TrbRing(memory), commands, this::post);
        addBar(new PciBar(0, PciBar.Kind.MEMORY32, XhciLayout.BAR_SIZE, false, new Registers()));
        synchronized (this) {
            reset();
        }
    }

    /** Root port {@code n} (1-8), for tests. */
    synchronized RootPort port(int n) {
        return ports[n - 1];
    }

    /** HCRST and power-on: halted, registers cleared, slots disabled, ports and devices reset. */
    private void reset() {
        usbcmd = 0;
        usbsts = STS_HCH;
        dnctrl = 0;
        configure = 0;
        dcbaap = 0;
        commandRing.reset();
        mfindexStopped = 0;
        interrupter.reset();
        commands.reset();
        for (RootPort p : ports) {
            if (p.device() != null) {
                p.device().reset();
            }
            p.reset();
        }
        interrupt.reset();
        signal();
    }

    private boolean running() {
        return (usbcmd & CMD_RS) != 0 && (usbsts & STS_HCH) == 0;
    }

    /** BAR0: dword reads (narrower ones cut from the dword), dword and qword writes. */
    private final class Registers implements IoHandler {
        @Override
        public long read(long offset, int size) {
            synchronized (XhciController.this) {
                if (offset < 0 || offset >= XhciLayout.BAR_SIZE) {
                    return 0;
                }
                int at = (int) offset;
                if (size == 8 && (at & 7) == 0) {
                    return Integer.toUnsignedLong(readDword(at)) | (long) readDword(at + 4) << 32;
                }
                long v = Integer.toUnsignedLong(readDword(at & ~3));
                return v >>> (8 * (at & 3)) & IoHandler.mask(size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (XhciController.this) {
                if (closed || offset < 0 || offset >= XhciLayout.BAR_SIZE || (offset & 3) != 0) {
                    return;
                }
                if (size == 8 && (offset & 7) == 0) {
                    writeDword((int) offset, (int) value);
                    writeDword((int) offset + 4, (int) (value >>> 32));
                } else if (size == 4) {
                    writeDword((int) offset, (int) value);
                }
            }
        }
    }

    private int readDword(int at) {
        if (at < XhciLayout.CAPLENGTH) {
            return XhciLayout.capability(at);
        } else if (at < XhciLayout.DBOFF) {
            return readOperational(at - XhciLayout.CAPLENGTH);
        } else if (at < XhciLayout.RTSOFF) {
            return 0;                                        // doorbells read as 0
        } else if (at < XhciLayout.XECP) {
            int r = at - XhciLayout.RTSOFF;
            return r == 0 ? mfindex() : r >= Interrupter.BASE ? interrupter.read(r - Interrupter.BASE) : 0;
        } else if (at < XhciLayout.XECP_END) {
            return XhciLayout.extended(at - XhciLayout.XECP);
        }
        return 0;
    }

    private int readOperational(int r) {
        if (r >= XhciLayout.PORTS) {
            int p = (r - XhciLayout.PORTS) / XhciLayout.PORT_STRIDE;
            return ports[p].read((r - XhciLayout.PORTS) % XhciLayout.PORT_STRIDE);
        }
        return switch (r) {
            case USBCMD -> usbcmd;
            case USBSTS -> usbsts;
            case PAGESIZE -> 1;
            case DNCTRL -> dnctrl;
            case CRCR_LO -> commandRing.readLow();
            case DCBAAP_LO -> (int) dcbaap;
            case DCBAAP_HI -> (int) (dcbaap >>> 32);
            case CONFIG -> configure;
            default -> 0;
        };
    }

    private void writeDword(int at, int value) {
        if (at < XhciLayout.CAPLENGTH) {
            guestError("write to read-only capability register 0x" + Integer.toHexString(at));
        } else if (at < XhciLayout.DBOFF) {
            writeOperational(at - XhciLayout.CAPLENGTH, value);
        } else if (at < XhciLayout.RTSOFF) {
            doorbell((at - XhciLayout.DBOFF) / 4, value);
        } else if (at < XhciLayout.XECP && at - XhciLayout.RTSOFF >= Interrupter.BASE) {
            interrupter.write(at - XhciLayout.RTSOFF - Interrupter.BASE, value);
        }
    }

    private void writeOperational(int r, int value) {
        if (r >= XhciLayout.PORTS) {
            RootPort port = ports[(r - XhciLayout.PORTS) / XhciLayout.PORT_STRIDE];
            int before = port.linkState();
            if (port.write((r - XhciLayout.PORTS) % XhciLayout.PORT_STRIDE, value)) {
                portEvent(port);
            }
            if (before != RootPort.U0 && port.linkState() == RootPort.U0) {
                serveInEndpoints(port);                      // resumed: pending reports go out
            }
            return;
        }
        switch (r) {
            case USBCMD -> writeUsbcmd(value);
            case USBSTS -> usbsts &= ~(value & (STS_HSE | STS_EINT | STS_PCD | STS_SRE));
            case DNCTRL -> dnctrl = value & 0xFFFF;
            case CRCR_LO -> commandRing.writeLow(value);
            case CRCR_HI -> commandRing.writeHigh(value);
            case DCBAAP_LO -> dcbaap = (dcbaap & 0xFFFFFFFF00000000L) | (value & 0xFFFFFFC0L);
            case DCBAAP_HI -> dcbaap = (dcbaap & 0xFFFFFFFFL) | (long) value << 32;
            case CONFIG -> configure = value & 0x3FF;
            default -> { }
        }
    }

    private void writeUsbcmd(int value) {
        if ((value & CMD_HCRST) != 0) {
            reset();
            return;
        }
        boolean was = running();
        usbcmd = value & CMD_KEPT;
        if (!was && (value & CMD_RS) != 0) {
            usbsts &= ~STS_HCH;
            mfindexBase = nanoClock.getAsLong() - mfindexStopped * 125_000L;
            for (RootPort p : ports) {
                if (p.controllerStarted()) {
                    portEvent(p);
                }
            }
        } else if (was && (value & CMD_RS) == 0) {
            halt();
        }
        signal();
    }

    private void halt() {
        mfindexStopped = mfindex();
        usbcmd &= ~CMD_RS;
        usbsts |= STS_HCH;
        commandRing.halted();
    }

    private void doorbell(int target, int value) {
        if (!running()) {
            return;
        }
        if (target == 0) {
            if ((value & 0xFF) == 0) {
                commandRing.run(this::running);
            }
            return;
        }
        DeviceSlot slot = commands.slot(target);
        Endpoint ep = slot == null ? null : slot.endpoint(value & 0xFF);
        if (ep == null) {
            guestError("doorbell for slot " + target + " endpoint " + (value & 0xFF) + ", not enabled");
            return;
        }
        if (ep.state() == Contexts.EP_STOPPED) {
            ep.setState(Contexts.EP_RUNNING);               // a doorbell restarts a stopped endpoint
        }
        transfers.run(ep, slot.device());
    }

    /** A device has data on IN endpoint {@code endpoint}: wake its link, or serve its pending TDs. */
    private void dataReady(RootPort port, int endpoint) {
        synchronized (this) {
            if (closed || !running()) {
                return;
            }
            if (quiesced) {
                heldWakeUps.add(new HeldWakeUp(port, endpoint));
                return;
            }
            if (port.linkState() == RootPort.U3) {
                if (port.remoteWake()) {
                    portEvent(port);
                }
                return;
            }
            DeviceSlot slot = commands.slotOn(port);
            Endpoint ep = slot == null ? null : slot.endpoint(endpoint * 2 + 1);
            if (ep != null && ep.state() == Contexts.EP_RUNNING) {
                transfers.run(ep, slot.device());
            }
        }
    }

    private void serveInEndpoints(RootPort port) {
        DeviceSlot slot = commands.slotOn(port);
        for (int dci = 3; slot != null && running() && dci <= 31; dci += 2) {
            Endpoint ep = slot.endpoint(dci);
            if (ep != null && ep.state() == Contexts.EP_RUNNING) {
                transfers.run(ep, slot.device());
            }
        }
    }

    private void portEvent(RootPort port) {
        usbsts |= STS_PCD;
        post((long) port.number() << 24, Trb.eventStatus(Trb.CC_SUCCESS, 0),
                Trb.eventControl(Trb.PORT_STATUS_CHANGE, 0, 0), true);
    }

    /** Posts an event; without a usable event ring that is a host system error (HSE, halt). */
    private void post(long parameter, int status, int control, boolean interrupt) {
        if (interrupter.post(parameter, status, control, interrupt) == EventRing.Post.LOST
                && !interrupter.ring().usable()) {
            guestError("event due but the event ring segment table is unusable: host system error");
            usbsts |= STS_HSE;
            halt();
        }
    }

    /** Interrupter 0's IP or IE, or USBCMD.INTE, or the MSI or INTx enables may have changed. */
    private void signal() {
        if (interrupt.update(interrupter, (usbcmd & CMD_INTE) != 0)) {
            usbsts |= STS_EINT;
        }
    }

    @Override
    protected synchronized void configWritten(int offset, int size, long value) {
        interrupt.configWritten(offset, size);
        signal();
    }

    /** MFINDEX: 125 µs microframes, counting while the controller runs (14 bits). */
    private int mfindex() {
        if (!running()) {
            return mfindexStopped;
        }
        return (int) ((nanoClock.getAsLong() - mfindexBase) / 125_000L) & 0x3FFF;
    }

    // ---------------------------------------------------------------- snapshot

    /** A device wake-up that came while quiesced, replayed on resume. */
    private record HeldWakeUp(RootPort port, int endpoint) {}

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * Layout (version 1), little-endian:
     * <pre>
     * PCI function state (config space with the MSI capability and INTx status, BAR0's address)
     * u32 USBCMD, USBSTS, DNCTRL, CONFIG; u64 DCBAAP; u32 MFINDEX (the counter's value now)
     * bool     IP was pending at the last interrupt update
     * the command ring ({@link CommandRing#save}: CRCR, CRR, dequeue pointer and cycle state)
     * interrupter 0 ({@link Interrupter#save}: IMAN IMOD ERSTSZ ERSTBA ERDP, the event ring's
     *          segment, enqueue index and producer cycle state)
     * 8 x      root port: the attached device's name (string, null for none), PORTSC PORTPMSC
     *          PORTHLPMC, then the device's state as a nested blob
     * the device slots ({@link Commands#save}: state, port, Device Context, each endpoint's
     *          type, state, transfer ring dequeue pointer and cycle state)
     * </pre>
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        saveFunctionState(out);
        out.i32(usbcmd).i32(usbsts).i32(dnctrl).i32(configure).i64(dcbaap).i32(mfindex());
        out.bool(interrupt.lastPending());
        commandRing.save(out);
        interrupter.save(out);
        for (RootPort p : ports) {
            out.string(p.device() == null ? null : p.device().name());
            p.save(out);
            if (p.device() != null) {
                out.nested(p.device());
            }
        }
        commands.save(out);
    }

    /**
     * Restores a blob of {@link #saveState} into a controller built from the same command line:
     * the root ports must carry the same devices. MFINDEX goes on from the saved value; MSI is
     * routed and INTx driven as saved; nothing is posted or sent.
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        restoreFunctionState(in);
        usbcmd = in.i32();
        usbsts = in.i32();
        dnctrl = in.intIn(0, 0xFFFF, "DNCTRL");
        configure = in.intIn(0, 0x3FF, "CONFIG");
        dcbaap = in.i64();
        if ((usbcmd & ~CMD_KEPT) != 0 || (dcbaap & 0x3F) != 0) {
            throw in.invalid("USBCMD 0x" + Integer.toHexString(usbcmd) + ", DCBAAP 0x" + Long.toHexString(dcbaap));
        }
        int mfindexSaved = in.intIn(0, 0x3FFF, "MFINDEX");
        mfindexStopped = mfindexSaved;
        mfindexBase = nanoClock.getAsLong() - mfindexSaved * 125_000L;
        boolean wasPending = in.bool();
        commandRing.restore(in);
        interrupter.restore(in);
        for (RootPort p : ports) {
            String device = in.string();
            String ours = p.device() == null ? null : p.device().name();
            if (!Objects.equals(device, ours)) {
                throw new SnapshotException(name() + ": the snapshot has " + (device == null ? "no device" : device)
                        + " on root port " + p.number() + ", the command line " + (ours == null ? "none" : ours));
            }
            p.restore(in);
            if (p.device() != null) {
                in.nested(p.device(), "port " + p.number() + " " + ours);
            }
        }
        commands.restore(in);
        interrupt.restored(wasPending);
    }

    /** Device wake-ups are held from now on: no transfer completes until {@link #resumeAfterSnapshot}. */
    @Override
    public synchronized void quiesce() {
        quiesced = true;
    }

    /** Serves the wake-ups held while quiesced, in the order they came. */
    @Override
    public void resumeAfterSnapshot() {
        List<HeldWakeUp> held;
        synchronized (this) {
            quiesced = false;
            held = List.copyOf(heldWakeUps);
            heldWakeUps.clear();
        }
        for (HeldWakeUp w : held) {
            dataReady(w.port(), w.endpoint());
        }
    }

    /** Logs a guest mistake: the first few, then every 1000th (a hostile guest could flood the log). */
    private void guestError(String message) {
        guestErrors.report(message);
    }

    /** Guest mistakes seen so far. */
    int guestErrors() {
        return guestErrors.count();
    }

    /** Releases the MSI vector; device wake-ups are ignored from now on. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        interrupt.close();
    }
}
