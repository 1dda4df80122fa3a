package org.jbhyve.devices.storage.ahci;

import java.util.Map;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.GuestErrorLog;
import org.jbhyve.pci.IntxPin;
import org.jbhyve.pci.MsiCapability;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's {@code ahci} (and {@code ahci-hd}/{@code ahci-cd}): an AHCI 1.3 SATA controller
 * presented as Intel's ICH8 (8086:2821, class 01/06/01), up to 32 ports, each with an ATA disk,
 * an ATAPI CD/DVD drive or nothing.
 *
 * <pre>
 * BAR5 (ABAR) 32-bit memory: generic host control at 0x00, port n at 0x100 + 0x80 * n
 * 0x00 CAP  64-bit, NCQ, SNotification, mech. switch, staggered spin-up, ALPM, activity LED,
 *           CLO, Gen3, PIO multiple DRQ, slumber/partial, 32 slots, external SATA, ports - 1
 * 0x04 GHC  bit 31 AE (always 1)  bit 1 IE (interrupt enable)  bit 0 HR (HBA reset, self-clearing)
 * 0x08 IS   bit n: port n has PxIS &amp; PxIE set; write 1 to clear
 * 0x0C PI   ports with a drive     0x10 VS 1.3     0x24 CAP2 automatic partial-to-slumber
 * Capabilities: MSI (one message, 64-bit address); INTA
 * </pre>
 * At least six ports are present (ICH8 has six), more when a drive sits on a higher port; ports
 * without a drive show no device (SSTS 0, SIG all ones) and are not in PI.
 *
 * <p>Interrupts: a port whose PxIS &amp; PxIE becomes non-zero sets its IS bit. INTx (when MSI is
 * off) is high while GHC.IE is set and IS is non-zero, and goes low when the guest clears IS.
 * With MSI on, the single message is sent when an IS bit goes from 0 to 1, and again when the
 * guest clears an IS bit whose port still has an enabled PxIS bit (so an event that raced the
 * guest's acknowledgement is not lost); both wait for GHC.IE.
 *
 * <p>Threads: registers are accessed from vCPU threads; transfers complete on the backends'
 * worker threads. Every register, port and device field is guarded by this object's monitor
 * (also the config-space lock of {@link PciFunction}).
 *
 * <p>Snapshots: {@link #quiesce} stops issuing command slots and waits until every command
 * already issued has completed (data transferred, PRDBC, D2H or Set Device Bits FIS posted, CI
 * or SACT bit cleared, interrupt raised); slots the guest set in CI meanwhile stay set and are
 * issued by {@link #resumeAfterSnapshot}, or by the controller a snapshot is restored into. The
 * state saved is described at {@link #saveState}.
 */
public final class AhciController extends PciFunction implements AutoCloseable, Snapshottable {
    public static final int VENDOR = 0x8086, DEVICE = 0x2821, CLASS_SATA_AHCI = 0x010601;
    public static final int ABAR = 5;
    public static final int MAX_PORTS = 32, MIN_PORTS = 6, SLOTS = 32;
    static final int CAP = 0x00, GHC = 0x04, IS = 0x08, PI = 0x0C, VS = 0x10, CAP2 = 0x24;
    static final int PORTS_AT = 0x100, PORT_STRIDE = 0x80;
    static final int GHC_HR = 1, GHC_IE = 2, GHC_AE = 1 << 31;
    static final int VERSION = 0x00010300, CAP2_APST = 1 << 2;
    private static final LazyLogger LOG = new LazyLogger(AhciController.class);

    private final AhciPort[] ports;
    private final MsiCapability msi;
    private final int cap;
    private final int implemented;
    private int ghc;
    private int is;
    private final IntxPin intx;
    private boolean quiesced;
    private final GuestErrorLog guestErrors = new GuestErrorLog(LOG, this::name);

    /**
     * A controller with {@code drives} on their ports (key = port, 0-31); DMA goes through
     * {@code memory}. The controller owns the drives' backends.
     */
    public AhciController(Map<Integer, AhciDrive> drives, GuestMemory memory, PciInterrupts interrupts) {
        super(new PciConfigSpace(VENDOR, DEVICE, CLASS_SATA_AHCI, 0));
        int count = MIN_PORTS;
        int pi = 0;
        for (int p : drives.keySet()) {
            if (p < 0 || p >= MAX_PORTS) {
                throw new IllegalArgumentException("AHCI port " + p + " is not 0-" + (MAX_PORTS - 1));
            }
            count = Math.max(count, p + 1);
            pi |= 1 << p;
        }
        this.implemented = pi;
        this.ports = new AhciPort[count];
        for (int p = 0; p < count; p++) {
            AhciDrive d = drives.get(p);
            SataDevice device = d == null ? null : d.kind() == AhciDrive.Kind.HD ? new AtaDisk(d) : new AtapiCd(d);
            ports[p] = new AhciPort(this, memory, p, device);
        }
        this.cap = 1 << 31 /* 64-bit */ | 1 << 30 /* NCQ */ | 1 << 29 /* SNTF */ | 1 << 28 /* MPS */
                | 1 << 27 /* SSS */ | 1 << 26 /* ALP */ | 1 << 25 /* AL */ | 1 << 24 /* CLO */ | 3 << 20 /* Gen3 */
                | 1 << 15 /* PMD */ | 1 << 14 /* SSC */ | 1 << 13 /* PSC */ | (SLOTS - 1) << 8 | 1 << 5 /* SXS */
                | (count - 1);
        config.put8(PciConfigSpace.INTERRUPT_PIN, 1);
        this.msi = new MsiCapability(config, interrupts.msiVector());
        this.intx = new IntxPin(config, interrupts);
        long size = Long.highestOneBit(PORTS_AT + (long) count * PORT_STRIDE - 1) << 1;
        addBar(new PciBar(ABAR, PciBar.Kind.MEMORY32, size, false, new Registers()));
        synchronized (this) {
            reset();
        }
    }

    /** The number of ports with registers (CAP.NP + 1). */
    public int portCount() {
        return ports.length;
    }

    /** Ports with a drive (the PI register). */
    public int portsImplemented() {
        return implemented;
    }

    private void reset() {
        ghc = GHC_AE;
        is = 0;
        for (AhciPort p : ports) {
            p.hbaReset();
        }
        updateIntx();
    }

    /** ABAR: 1-, 2- and 4-byte reads (8 as two dwords); aligned 4-byte writes (8 as two), as bhyve. */
    private final class Registers implements IoHandler {
        @Override
        public long read(long offset, int size) {
            synchronized (AhciController.this) {
                if (size == 8 && (offset & 7) == 0) {
                    return Integer.toUnsignedLong(readDword((int) offset)) | (long) readDword((int) offset + 4) << 32;
                }
                if (size > 4 || (offset & (size - 1)) != 0 || offset < 0 || offset >= Integer.MAX_VALUE) {
                    return 0;
                }
                long v = Integer.toUnsignedLong(readDword((int) offset & ~3));
                return v >>> (8 * (offset & 3)) & IoHandler.mask(size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (AhciController.this) {
                if (size == 8 && (offset & 7) == 0 && offset < Integer.MAX_VALUE) {
                    writeDword((int) offset, (int) value);
                    writeDword((int) offset + 4, (int) (value >>> 32));
                } else if (size == 4 && (offset & 3) == 0 && offset >= 0 && offset < Integer.MAX_VALUE) {
                    writeDword((int) offset, (int) value);
                }
            }
        }
    }

    private int readDword(int offset) {
        if (offset >= PORTS_AT) {
            int p = (offset - PORTS_AT) / PORT_STRIDE;
            return p < ports.length ? ports[p].read((offset - PORTS_AT) % PORT_STRIDE) : 0;
        }
        return switch (offset) {
            case CAP -> cap;
            case GHC -> ghc;
            case IS -> is;
            case PI -> implemented;
            case VS -> VERSION;
            case CAP2 -> CAP2_APST;
            default -> 0;        // CCC, enclosure management, BOHC: not implemented
        };
    }

    private void writeDword(int offset, int value) {
        if (offset >= PORTS_AT) {
            int p = (offset - PORTS_AT) / PORT_STRIDE;
            if (p < ports.length) {
                ports[p].write((offset - PORTS_AT) % PORT_STRIDE, value);
            }
            return;
        }
        switch (offset) {
            case GHC -> {
                if ((value & GHC_HR) != 0) {
                    reset();
                    return;
                }
                boolean was = (ghc & GHC_IE) != 0;
                ghc = (value & GHC_IE) != 0 ? ghc | GHC_IE : ghc & ~GHC_IE;
                if (!was && (ghc & GHC_IE) != 0 && is != 0) {
                    msi.fire();
                }
                updateIntx();
            }
            case IS -> {
                int cleared = is & value;
                is &= ~value;
                for (AhciPort p : ports) {
                    if (p.interruptPending()) {
                        is |= 1 << p.index();
                    }
                }
                if ((is & cleared) != 0 && (ghc & GHC_IE) != 0) {
                    msi.fire();
                }
                updateIntx();
            }
            default -> { } // CAP, PI, VS, CAP2 are read-only; the rest is not implemented
        }
    }

    /** Called by a port (under this lock) after its PxIS or PxIE changed. */
    void portInterrupt(AhciPort port) {
        int bit = 1 << port.index();
        if (port.interruptPending() && (is & bit) == 0) {
            is |= bit;
            if ((ghc & GHC_IE) != 0) {
                msi.fire();
            }
        }
        updateIntx();
    }

    /** INTx follows GHC.IE &amp;&amp; IS != 0 while MSI is off and the command register allows it. */
    private void updateIntx() {
        boolean want = (ghc & GHC_IE) != 0 && is != 0 && !msi.enabled();
        intx.update(want);
    }

    @Override
    protected synchronized void configWritten(int offset, int size, long value) {
        if (msi.configWritten(offset, size) && msi.enabled() && (ghc & GHC_IE) != 0 && is != 0) {
            msi.fire();
        }
        updateIntx();
    }

    /** Logs a guest mistake: the first few, then every 1000th (a hostile guest could flood the log). */
    void guestError(String message) {
        guestErrors.report(message);
    }

    /** Guest mistakes seen so far. */
    int guestErrors() {
        return guestErrors.count();
    }

    /** Closes every drive's backend (after their in-flight requests) and the MSI vector. */
    @Override
    public void close() {
        for (AhciPort p : ports) {
            if (p.device() != null) {
                p.device().close();
            }
        }
        msi.close();
    }

    // ------------------------------------------------------------ snapshot

    @Override
    public int stateVersion() {
        return 1;
    }

    /** Whether command issue is stopped for a snapshot (ports ask before issuing a slot). */
    boolean quiesced() {
        return quiesced;
    }

    /** Stops issuing command slots and waits until no issued command is still executing. */
    @Override
    public synchronized void quiesce() {
        quiesced = true;
        boolean interrupted = false;
        while (anyExecuting()) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;   // the commands finish on their own: keep waiting for them
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Issues again, starting with the slots the guest set while the controller was quiesced. */
    @Override
    public synchronized void resumeAfterSnapshot() {
        quiesced = false;
        for (AhciPort p : ports) {
            p.processCommands();
        }
    }

    private boolean anyExecuting() {
        for (AhciPort p : ports) {
            if (p.executing()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The layout, after {@link #quiesce}:
     * <pre>
     * function state (config space, BARs; MSI lives in config space)
     * i32 GHC   i32 IS   u8 number of ports
     * each port: see {@link AhciPort#saveState} (drive kind and size, registers, device state)
     * </pre>
     * CAP, PI and the rest that the command line fixes are not saved; a restore compares the
     * number of ports and each port's drive with the snapshot's.
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        saveFunctionState(out);
        out.i32(ghc).i32(is).u8(ports.length);
        for (AhciPort p : ports) {
            p.saveState(out);
        }
    }

    /**
     * Restores a blob of {@link #saveState}, re-routes MSI and the INTx line, then issues any
     * slot the guest had set in CI that was not issued before the snapshot.
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        restoreFunctionState(in);
        int savedGhc = in.i32();
        if ((savedGhc & ~GHC_IE) != GHC_AE) {
            throw in.invalid("GHC is 0x" + Integer.toHexString(savedGhc));
        }
        int savedIs = in.i32();
        int count = in.u8();
        if (count != ports.length) {
            throw new SnapshotException(name() + ": the controller has " + ports.length + " ports, the snapshot "
                    + count);
        }
        if (count < 32 && savedIs >>> count != 0) {
            throw in.invalid("IS 0x" + Integer.toHexString(savedIs) + " names ports beyond " + (count - 1));
        }
        for (AhciPort p : ports) {
            p.restoreState(in, name());
        }
        ghc = savedGhc;
        is = savedIs;
        msi.restored();
        intx.restored();
        quiesced = false;
        for (AhciPort p : ports) {
            p.processCommands();
        }
    }
}
