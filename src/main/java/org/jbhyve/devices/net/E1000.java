package org.jbhyve.devices.net;

import static org.jbhyve.devices.net.E1000Registers.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.backend.net.NetBackend;
import org.jbhyve.backend.net.NetConfig;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.pci.GuestErrorLog;
import org.jbhyve.pci.IntxPin;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's {@code e1000}: an Intel 82545EM gigabit copper NIC (8086:100F, subsystem 8086:1008)
 * as pci_e82545.c presents it, driven by Linux's e1000, FreeBSD's em and Windows' built-in driver.
 *
 * <pre>
 * BAR0  memory, 128 KiB  the registers (see {@link E1000Registers})
 * BAR1  memory,  64 KiB  flash (absent: reads 0)
 * BAR2  I/O,      8 B    IOADDR (+0) selects a register, IODATA (+4) reads/writes it
 * INTA  level-triggered: high while ICR & IMS != 0, lowered when reading ICR clears it
 * </pre>
 *
 * <p>Interrupts: a cause sets ICR bits; a newly set unmasked bit raises INTx unless the ITR
 * throttle is running. After each assertion the throttle holds further assertions for
 * ITR x 256 ns; when it expires, pending unmasked causes raise the line again.
 *
 * <p>Threads: registers are accessed from vCPU threads; transmit runs on the vCPU thread that
 * writes TDT; receive runs on the backend's thread (and on RDT writes, for frames that waited
 * for buffers); the ITR throttle on a shared scheduler thread. All state is guarded by this
 * object's monitor, which is also {@link PciFunction}'s config-space lock.
 *
 * <p>Snapshots: see {@link #saveState} for the layout. {@link #quiesce} waits for a receive
 * pass in progress (its descriptors are written back with DD and its causes raised, as every
 * pass leaves them) and then stops moving frames: received ones wait in the backend, a TDT
 * write is only recorded, until {@link #resumeAfterSnapshot}.
 */
public final class E1000 extends PciFunction implements Snapshottable, AutoCloseable {
    public static final int VENDOR = 0x8086;
    public static final int DEVICE = 0x100F;
    public static final int SUBSYSTEM = 0x1008;
    public static final int CLASS_ETHERNET = 0x020000;
    public static final int REGISTER_BAR_SIZE = 128 * 1024;
    public static final int FLASH_BAR_SIZE = 64 * 1024;
    public static final int IO_BAR_SIZE = 8;
    static final int ITR_UNIT_NANOS = 256;
    private static final int MIN_FRAME = 60;      // ETHER_MIN_LEN without the FCS
    private static final int FCS = 4;
    private static final int MAX_FRAME = 1522;     // without RCTL.LPE
    private static final int MAX_LONG_FRAME = 16384;
    private static final int MAX_FRAMES_PER_PASS = 1024;
    private static final LazyLogger LOG = new LazyLogger(E1000.class);
    private static final ScheduledExecutorService TIMERS = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("e1000-timer").unstarted(r));

    /** Runs a task after a delay (the ITR throttle); replaceable in tests. */
    interface Scheduler {
        void schedule(Runnable task, long delayNanos);
    }

    private final GuestMemory memory;
    private final IntxPin intx;
    private final NetBackend backend;
    private final MacAddress mac;
    private final Scheduler scheduler;
    private final E1000Nvm nvm;
    private final E1000Phy phy = new E1000Phy();
    private final E1000Transmit transmit;
    private final int[] plain = new int[REGISTER_BAR_SIZE / 4];
    private final E1000Statistics statistics;
    private final E1000AddressFilter filter = new E1000AddressFilter();
    private final int[] vfta = new int[128];
    private final CRC32 crc = new CRC32();
    private final MemorySegment[] rxBuffers = new MemorySegment[MAX_LONG_FRAME / 256 + 2];
    private final byte[] fcsBytes = new byte[FCS];

    private int ctrl, mdic, icr, itr, ims, rctl, tctl;
    private int rdbal, rdbah, rdlen, rdh, rdt, tdbal, tdbah, tdlen, tdh, tdt;
    private int ioAddress;
    private boolean lineHigh;
    private boolean throttled;
    private boolean quiesced;
    private final GuestErrorLog guestErrors = new GuestErrorLog(LOG, this::name);
    private boolean closed;

    /** The device for {@code config}: its backend, MAC and MTU; DMA through {@code memory}. */
    public E1000(NetConfig config, GuestMemory memory, PciInterrupts interrupts) {
        this(config.backend(), config.mac(), memory, interrupts,
                (task, nanos) -> TIMERS.schedule(task, nanos, TimeUnit.NANOSECONDS));
    }

    E1000(NetBackend backend, MacAddress mac, GuestMemory memory, PciInterrupts interrupts, Scheduler scheduler) {
        super(new PciConfigSpace(VENDOR, DEVICE, CLASS_ETHERNET, 0));
        this.memory = memory;
        this.intx = new IntxPin(config, interrupts);
        this.backend = backend;
        this.mac = mac;
        this.scheduler = scheduler;
        this.nvm = new E1000Nvm(mac, SUBSYSTEM, VENDOR, DEVICE, VENDOR);
        this.transmit = new E1000Transmit(memory, this::guestError);
        this.statistics = new E1000Statistics(backend::droppedFrames);
        config.put16(PciConfigSpace.SUBSYSTEM_VENDOR, VENDOR);
        config.put16(PciConfigSpace.SUBSYSTEM, SUBSYSTEM);
        config.put8(PciConfigSpace.INTERRUPT_PIN, 1);
        addBar(new PciBar(0, PciBar.Kind.MEMORY32, REGISTER_BAR_SIZE, false, new Registers()));
        addBar(new PciBar(1, PciBar.Kind.MEMORY32, FLASH_BAR_SIZE, false, new IoHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {}
        }));
        addBar(new PciBar(2, PciBar.Kind.IO, IO_BAR_SIZE, false, new IoWindow()));
        synchronized (this) {
            reset(false);
        }
        backend.setReceiveListener(this::receiveReady);
    }

    public MacAddress mac() {
        return mac;
    }

    public NetBackend backend() {
        return backend;
    }

    /** BAR0: aligned 32-bit register accesses; other widths read 0 and are ignored, as bhyve. */
    private final class Registers implements IoHandler {
        @Override
        public long read(long offset, int size) {
            if (size != 4 || (offset & 3) != 0) {
                return 0;
            }
            synchronized (E1000.this) {
                return Integer.toUnsignedLong(readRegister((int) offset));
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (size != 4 || (offset & 3) != 0) {
                return;
            }
            synchronized (E1000.this) {
                writeRegister((int) offset, (int) value);
            }
        }
    }

    /** BAR2: IOADDR at +0, IODATA at +4, dword accesses only. */
    private final class IoWindow implements IoHandler {
        @Override
        public long read(long offset, int size) {
            synchronized (E1000.this) {
                if (size != 4) {
                    return 0;
                }
                if (offset == 0) {
                    return Integer.toUnsignedLong(ioAddress);
                }
                if (offset == 4 && ioAddress >= 0 && ioAddress < REGISTER_BAR_SIZE && (ioAddress & 3) == 0) {
                    return Integer.toUnsignedLong(readRegister(ioAddress));
                }
                return 0;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (E1000.this) {
                if (size != 4) {
                    return;
                }
                if (offset == 0) {
                    ioAddress = (int) value;
                } else if (offset == 4 && ioAddress >= 0 && ioAddress < REGISTER_BAR_SIZE && (ioAddress & 3) == 0) {
                    writeRegister(ioAddress, (int) value);
                }
            }
        }
    }

    // ---------------------------------------------------------------- registers

    private int readRegister(int offset) {
        if (offset >= STATS && offset < STATS_END) {
            return statistics.read(offset);
        }
        if (E1000AddressFilter.covers(offset)) {
            return filter.read(offset);
        }
        if (offset >= VFTA && offset < VFTA + 512) {
            return vfta[(offset - VFTA) >> 2];
        }
        return switch (offset) {
            case CTRL, CTRL_DUP -> ctrl;
            case STATUS -> STATUS_FD | STATUS_LU | STATUS_SPEED_1000;
            case EECD -> nvm.readEecd();
            case MDIC -> mdic;
            case ICR -> {
                int v = icr;
                clearCauses(~0);
                yield v;
            }
            case ITR -> itr;
            case IMS -> ims;
            case ICS, IMC -> 0; // write-only
            case RCTL -> rctl;
            case TCTL -> tctl;
            case RDBAL -> rdbal;
            case RDBAH -> rdbah;
            case RDLEN -> rdlen;
            case RDH -> rdh;
            case RDT -> rdt;
            case TDBAL -> tdbal;
            case TDBAH -> tdbah;
            case TDLEN -> tdlen;
            case TDH -> tdh;
            case TDT -> tdt;
            default -> plain[offset >> 2];
        };
    }

    private void writeRegister(int offset, int value) {
        if (offset >= STATS && offset < STATS_END) {
            return; // read-only counters
        }
        if (E1000AddressFilter.covers(offset)) {
            filter.write(offset, value);
            return;
        }
        if (offset >= VFTA && offset < VFTA + 512) {
            vfta[(offset - VFTA) >> 2] = value;
            return;
        }
        switch (offset) {
            case CTRL, CTRL_DUP -> {
                ctrl = value & ~(CTRL_RST | CTRL_PHY_RST);
                if ((value & CTRL_RST) != 0) {
                    reset(true);
                }
            }
            case STATUS -> { } // read-only
            case EECD -> nvm.writeEecd(value);
            case EERD -> plain[EERD >> 2] = nvm.eerd(value);
            case MDIC -> writeMdic(value);
            case ICR -> clearCauses(value);
            case ITR -> itr = value & 0xFFFF;
            case ICS -> raiseCauses(value);
            case IMS -> {
                ims |= value;
                updateLine(true);
            }
            case IMC -> {
                ims &= ~value;
                updateLine(false);
            }
            case RCTL -> {
                boolean wasOn = (rctl & RCTL_EN) != 0;
                rctl = value & ~0xF9204C01;
                if (!wasOn && (rctl & RCTL_EN) != 0) {
                    receive();
                }
            }
            case TCTL -> tctl = value & ~0xFE800005;
            case RDBAL -> rdbal = value & ~0xF;
            case RDBAH -> rdbah = value;
            case RDLEN -> rdlen = value & 0x000FFF80;
            case RDH -> rdh = value & 0xFFFF;
            case RDT -> {
                rdt = value & 0xFFFF;
                receive();
            }
            case TDBAL -> tdbal = value & ~0xF;
            case TDBAH -> tdbah = value;
            case TDLEN -> tdlen = value & 0x000FFF80;
            case TDH -> tdh = value & 0xFFFF;
            case TDT -> {
                tdt = value & 0xFFFF;
                transmit();
            }
            default -> plain[offset >> 2] = value;
        }
    }

    private void writeMdic(int value) {
        int reg = (value >>> 16) & 0x1F;
        int op = value & (3 << 26);
        int v = value & ~(MDIC_ERROR | MDIC_READY);
        if (op == MDIC_OP_READ) {
            v = (v & ~0xFFFF) | phy.read(reg);
        } else if (op == MDIC_OP_WRITE) {
            phy.write(reg, value & 0xFFFF);
        } else {
            v |= MDIC_ERROR;
        }
        mdic = v | MDIC_READY;
        if ((value & (1 << 29)) != 0) {
            raiseCauses(ICR_MDAC);
        }
    }





    // ---------------------------------------------------------------- reset

    /** Power-on reset ({@code software} false) or CTRL.RST (keeps what bhyve keeps). */
    private void reset(boolean software) {
        icr = 0;
        ims = 0;
        itr = 0;
        updateLine(false);
        nvm.reset();
        ctrl = 0;
        mdic = 0;
        rctl = 0;
        tctl = 0;
        rdlen = rdh = rdt = 0;
        tdlen = tdh = tdt = 0;
        ioAddress = 0;
        transmit.resetContext();
        plain[0x0E00 >> 2] = 0x07061302; // LEDCTL
        plain[0x1000 >> 2] = 0x00100030; // PBA: 48 KiB receive, 16 KiB transmit
        plain[0x2828 >> 2] = 1 << 24 | 1 << 16; // RXDCTL defaults
        if (!software) {
            rdbal = rdbah = tdbal = tdbah = 0;
            java.util.Arrays.fill(vfta, 0);
            statistics.reset();
        }
        filter.reset(!software, mac); // RAR[0] is loaded from the EEPROM at every reset
    }

    // ---------------------------------------------------------------- interrupts

    private void raiseCauses(int bits) {
        icr |= bits;
        updateLine(true);
    }

    private void clearCauses(int bits) {
        icr &= ~bits;
        updateLine(false);
    }

    /**
     * Drives INTx from ICR & IMS: lowers it as soon as nothing unmasked is pending; raises it
     * ({@code mayRaise}) unless the ITR throttle holds it back, and starts the throttle.
     */
    private void updateLine(boolean mayRaise) {
        boolean pending = (icr & ims) != 0;
        if (!pending) {
            setLine(false);
        } else if (mayRaise && !lineHigh && !throttled) {
            setLine(true);
            if (itr != 0) {
                throttled = true;
                scheduler.schedule(this::throttleExpired, (long) itr * ITR_UNIT_NANOS);
            }
        }
    }

    private synchronized void throttleExpired() {
        throttled = false;
        updateLine(true);
    }

    private void setLine(boolean high) {
        lineHigh = high;
        intx.update(high);
    }

    @Override
    protected void configWritten(int offset, int size, long value) {
        if (offset <= PciConfigSpace.COMMAND + 1 && offset + size > PciConfigSpace.COMMAND + 1) {
            setLine(lineHigh); // INTx disable changed
        }
    }

    /** Whether the device is asserting its interrupt (for tests and debugging). */
    synchronized boolean interruptAsserted() {
        return lineHigh;
    }

    // ---------------------------------------------------------------- transmit

    private void transmit() {
        if (quiesced || (tctl & TCTL_EN) == 0) {
            return;
        }
        int size = tdlen / DESCRIPTOR_SIZE;
        long base = Integer.toUnsignedLong(tdbah) << 32 | Integer.toUnsignedLong(tdbal);
        if (size == 0 || tdh >= size || tdt >= size || !memory.contains(base, tdlen)) {
            guestError("transmit ring 0x" + Long.toHexString(base) + "+" + tdlen + " (head " + tdh + ", tail " + tdt
                    + ") is not valid");
            return;
        }
        if (tdh == tdt) {
            return;
        }
        boolean vlan = (ctrl & CTRL_VME) != 0;
        transmit.run(base, size, tdh, tdt, vlan, plain[VET >> 2] & 0xFFFF, this::sendFrame);
        int old = tdh;
        tdh = transmit.head;
        int cause = transmit.wroteBack ? ICR_TXDW : 0;
        if (tdh != old && tdh == tdt) {
            cause |= ICR_TXQE;
        }
        if (cause != 0) {
            raiseCauses(cause);
        }
    }

    private void sendFrame(MemorySegment frame, boolean segmented) {
        if (segmented) {
            statistics.count(TSCTC, 1);
        }
        statistics.countFrame(frame, frame.byteSize() + FCS, false);
        backend.send(frame);
    }

    // ---------------------------------------------------------------- receive

    private void receiveReady() {
        synchronized (this) {
            if (!closed) {
                receive();
            }
        }
    }

    /** Buffer size from RCTL.BSIZE and BSEX. */
    int bufferSize() {
        int bsize = (rctl >>> 16) & 3;
        if ((rctl & RCTL_BSEX) != 0) {
            return switch (bsize) {
                case 1 -> 16384;
                case 2 -> 8192;
                case 3 -> 4096;
                default -> 256; // reserved: as bhyve
            };
        }
        return 2048 >> bsize;
    }

    /** Moves queued frames into the receive ring while it has free descriptors. */
    private void receive() {
        if (quiesced) {
            return; // frames wait in the backend until resumeAfterSnapshot
        }
        if ((rctl & RCTL_EN) == 0 || (rctl & RCTL_LBM) != 0) {
            while (backend.discard()) {
                // not receiving: frames are lost, as on the wire
            }
            return;
        }
        int size = rdlen / DESCRIPTOR_SIZE;
        long base = Integer.toUnsignedLong(rdbah) << 32 | Integer.toUnsignedLong(rdbal);
        if (size == 0 || rdh >= size || rdt >= size || !memory.contains(base, rdlen)) {
            if (backend.peekLength() >= 0) {
                guestError("receive ring 0x" + Long.toHexString(base) + "+" + rdlen + " (head " + rdh + ", tail " + rdt
                        + ") is not valid");
            }
            return;
        }
        int bufsz = bufferSize();
        int maxFrame = (rctl & RCTL_LPE) != 0 ? MAX_LONG_FRAME : MAX_FRAME;
        boolean stripFcs = (rctl & RCTL_SECRC) != 0;
        int cause = 0;
        // Bounded twice: by the ring (descriptors used) and by frames looked at (filtered ones use none).
        for (int budget = size, frames = 0; budget > 0 && frames < MAX_FRAMES_PER_PASS; frames++) {
            int length = backend.peekLength();
            if (length < 0) {
                break;
            }
            int wire = Math.max(length, MIN_FRAME) + (stripFcs ? 0 : FCS);
            if (length + FCS > maxFrame) {
                backend.discard();
                statistics.count(ROC, 1);
                continue;
            }
            int needed = (wire + bufsz - 1) / bufsz;
            int free = (rdt - rdh + size) % size;
            if (free < needed) {
                cause |= ICR_RXDMT0; // ask the driver for buffers; the frame waits in the backend
                break;
            }
            int placed = place(base, size, bufsz, needed, length, wire, stripFcs);
            if (placed < 0) {
                continue; // dropped (bad buffer or filtered)
            }
            rdh = (rdh + placed) % size;
            budget -= placed;
            cause |= ICR_RXT0;
        }
        int free = (rdt - rdh + size) % size;
        if (free < (size >> (((rctl >>> 8) & 3) + 1))) {
            cause |= ICR_RXDMT0;
        }
        if (cause != 0) {
            raiseCauses(cause);
        }
    }

    /**
     * Receives the next frame into the {@code needed} descriptors from RDH and completes them;
     * returns how many were used, or -1 when the frame was filtered out or a buffer was bad.
     */
    private int place(long base, int size, int bufsz, int needed, int length, int wire, boolean stripFcs) {
        try {
            for (int i = 0; i < needed; i++) {
                long d = base + (long) ((rdh + i) % size) * DESCRIPTOR_SIZE;
                rxBuffers[i] = memory.slice(memory.getLong(d), bufsz);
            }
        } catch (GuestMemoryException e) {
            backend.discard();
            guestError("receive buffer " + e.getMessage() + ": frame dropped");
            return -1;
        }
        MemorySegment[] buffers = java.util.Arrays.copyOf(rxBuffers, needed);
        int got = backend.receive(buffers);
        if (got != length || !filter.accept(buffers[0], rctl)) {
            return -1;
        }
        // Short frames are padded with zeros; then the FCS follows unless RCTL.SECRC strips it.
        int padded = Math.max(length, MIN_FRAME);
        for (int at = length; at < padded; at++) {
            buffers[at / bufsz].set(ValueLayout.JAVA_BYTE, at % bufsz, (byte) 0);
        }
        if (!stripFcs) {
            crc.reset();
            for (int i = 0, left = padded; left > 0; i++) {
                int now = Math.min(left, bufsz);
                crc.update(buffers[i].asSlice(0, now).asByteBuffer());
                left -= now;
            }
            long fcs = crc.getValue();
            for (int k = 0; k < FCS; k++) {
                fcsBytes[k] = (byte) (fcs >>> (8 * k));
                int at = padded + k;
                buffers[at / bufsz].set(ValueLayout.JAVA_BYTE, at % bufsz, fcsBytes[k]);
            }
        }
        statistics.countFrame(buffers[0], padded + FCS, true);
        // Data before status: the guest may read the buffer as soon as it sees DD.
        VarHandle.releaseFence();
        for (int i = 0; i < needed; i++) {
            long d = base + (long) ((rdh + i) % size) * DESCRIPTOR_SIZE;
            boolean last = i == needed - 1;
            int len = last ? wire - bufsz * (needed - 1) : bufsz;
            memory.putShort(d + 8, (short) len);
            memory.putShort(d + 10, (short) 0);   // checksum
            memory.putByte(d + 13, (byte) 0);      // errors
            memory.putShort(d + 14, (short) 0);   // special
            memory.putByte(d + 12, (byte) (last ? RXD_STAT_DD | RXD_STAT_EOP | RXD_STAT_IXSM | RXD_STAT_PIF
                    : RXD_STAT_DD));
        }
        return needed;
    }


    // ---------------------------------------------------------------- snapshot

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * Layout (version 1), all little-endian:
     * <pre>
     * PCI function state (config space, BAR addresses); the INTx level is its Interrupt Status bit
     * u32 x 19  CTRL MDIC ICR ITR IMS RCTL TCTL, RDBAL RDBAH RDLEN RDH RDT,
     *           TDBAL TDBAH TDLEN TDH TDT, IOADDR (the I/O window's register selector)
     * bool      the ITR throttle is running (restore starts it again for a full interval)
     * u32 n, then n x (u32 index, u32 value)  the other BAR0 dwords that are not zero, by index
     * u32[128]  VFTA
     * RAL[16], RAH[16], MTA[128]           ({@link E1000AddressFilter#save})
     * u64[64]   statistics                 ({@link E1000Statistics#save})
     * EEPROM words and Microwire state     ({@link E1000Nvm#save})
     * PHY registers                        ({@link E1000Phy#save})
     * the last transmit context descriptor ({@link E1000Transmit#save})
     * </pre>
     * No packet is ever half-taken between register accesses (see {@link E1000Transmit#save}),
     * and the rings themselves are in guest RAM.
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        saveFunctionState(out);
        for (int v : new int[] {ctrl, mdic, icr, itr, ims, rctl, tctl, rdbal, rdbah, rdlen, rdh, rdt,
                tdbal, tdbah, tdlen, tdh, tdt, ioAddress}) {
            out.i32(v);
        }
        out.bool(throttled);
        int nonZero = 0;
        for (int v : plain) {
            nonZero += v != 0 ? 1 : 0;
        }
        out.i32(nonZero);
        for (int i = 0; i < plain.length; i++) {
            if (plain[i] != 0) {
                out.i32(i).i32(plain[i]);
            }
        }
        out.ints(vfta);
        filter.save(out);
        statistics.save(out);
        nvm.save(out);
        phy.save(out);
        transmit.save(out);
    }

    /**
     * Restores a blob of {@link #saveState}: registers, then the INTx line from the restored
     * Interrupt Status bit and the ITR throttle if it was running. Register values a guest
     * could not have written (a ring length that is not a multiple of 128, an index past
     * 0xFFFF) are refused.
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        restoreFunctionState(in);
        ctrl = masked(in, ~(CTRL_RST | CTRL_PHY_RST), "CTRL");
        mdic = in.i32();
        icr = in.i32();
        itr = masked(in, 0xFFFF, "ITR");
        ims = in.i32();
        rctl = masked(in, ~0xF9204C01, "RCTL");
        tctl = masked(in, ~0xFE800005, "TCTL");
        rdbal = masked(in, ~0xF, "RDBAL");
        rdbah = in.i32();
        rdlen = masked(in, 0x000FFF80, "RDLEN");
        rdh = masked(in, 0xFFFF, "RDH");
        rdt = masked(in, 0xFFFF, "RDT");
        tdbal = masked(in, ~0xF, "TDBAL");
        tdbah = in.i32();
        tdlen = masked(in, 0x000FFF80, "TDLEN");
        tdh = masked(in, 0xFFFF, "TDH");
        tdt = masked(in, 0xFFFF, "TDT");
        ioAddress = in.i32();
        boolean wasThrottled = in.bool();
        int nonZero = in.intIn(0, plain.length, "the number of other registers");
        java.util.Arrays.fill(plain, 0);
        for (int k = 0; k < nonZero; k++) {
            plain[in.intIn(0, plain.length - 1, "a register index")] = in.i32();
        }
        System.arraycopy(in.ints(vfta.length), 0, vfta, 0, vfta.length);
        filter.restore(in);
        statistics.restore(in);
        nvm.restore(in);
        phy.restore(in);
        transmit.restore(in);
        lineHigh = (config.get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_INTERRUPT) != 0;
        intx.restored();
        throttled = wasThrottled;
        if (throttled) {
            scheduler.schedule(this::throttleExpired, (long) itr * ITR_UNIT_NANOS);
        }
    }

    /** A register value that must have no bits outside {@code mask}, as the register's write keeps it. */
    private static int masked(StateReader in, int mask, String register) {
        int v = in.i32();
        if ((v & ~mask) != 0) {
            throw in.invalid(register + " is 0x" + Integer.toHexString(v));
        }
        return v;
    }

    /** Lets a receive pass in progress finish, then moves no frames until {@link #resumeAfterSnapshot}. */
    @Override
    public void quiesce() {
        synchronized (this) {
            quiesced = true;
        }
    }

    /** Moves frames again: the transmit ring up to TDT, then what waited in the backend. */
    @Override
    public void resumeAfterSnapshot() {
        synchronized (this) {
            quiesced = false;
            if (!closed) {
                transmit();
                receive();
            }
        }
    }

    // ---------------------------------------------------------------- misc

    private void guestError(String message) {
        guestErrors.report(message);
    }

    /** Guest mistakes seen so far (bad rings, buffers, descriptors). */
    int guestErrors() {
        return guestErrors.count();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        backend.setReceiveListener(null);
        backend.close();
    }
}
