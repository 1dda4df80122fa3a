package org.jbhyve.devices.storage.nvme;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.MsixCapability;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's {@code nvme}: an NVM Express 1.4 controller with one namespace (P10), as
 * pci_nvme.c presents it: PCI FB5D:0A0A, class 01h/08h/02h (mass storage, NVM, NVMe), a PCI
 * Express capability (root complex integrated endpoint), MSI-X with a vector per completion
 * queue (maxq + 1) in BAR4 and INTA as the fallback.
 *
 * <pre>
 * BAR0 (64-bit memory, 16 KiB):
 * 00h CAP    15:0 MQES (qsz - 1), 16 CQR, 31:24 TO (60 x 500 ms), 35:32 DSTRD 0, 37 CSS NVM,
 *            51:48 MPSMIN 0, 55:52 MPSMAX 0 (4 KiB pages only)
 * 08h VS     1.4.0           0Ch INTMS / 10h INTMC: set / clear INTx mask bits (pin: bit 0)
 * 14h CC     0 EN, 6:4 CSS, 10:7 MPS, 13:11 AMS, 15:14 SHN, 19:16 IOSQES, 23:20 IOCQES
 * 1Ch CSTS   0 RDY, 1 CFS, 3:2 SHST (01b shutting down, 10b done)
 * 24h AQA    11:0 admin SQ size - 1, 27:16 admin CQ size - 1
 * 28h ASQ, 30h ACQ  admin queue bases (page aligned)
 * 1000h + 8y SQ y tail doorbell, 1004h + 8y CQ y head doorbell
 * </pre>
 * CC.EN 0 to 1 takes AQA/ASQ/ACQ and becomes ready (CSTS.RDY) once no request of an earlier
 * session is still running, and stays ready until CC.EN is cleared; a bad admin queue setup, page size or command set sets CSTS.CFS
 * instead. CC.EN 1 to 0 resets: every queue and held event request is dropped, features return
 * to their defaults, and RDY falls once running requests have ended. CC.SHN flushes the backend
 * when the running requests have ended, then reports SHST complete. Doorbells are ignored while
 * the controller is not ready.
 *
 * <p>Registers are serialised on this object (also {@link PciFunction}'s config lock); doorbells
 * and completions are not: they go through {@link CommandPump} and the queues' own locks.
 *
 * <p>Snapshots: {@link #quiesce} stops fetching commands and waits until every command already
 * fetched has completed (data transferred, completion entry written, interrupt sent), except
 * the Asynchronous Event Requests the controller holds, which are saved as outstanding. Doorbells
 * rung meanwhile are recorded; their commands are fetched by {@link #resumeAfterSnapshot} or by
 * the controller the snapshot is restored into. The layout is at {@link #saveState}.
 */
public final class NvmeController extends PciFunction implements AutoCloseable, Snapshottable {
    public static final int VENDOR = NvmeIdentify.VENDOR;
    public static final int DEVICE = 0x0A0A;
    public static final int CLASS_NVME = 0x010802;
    public static final int REGISTER_BAR = 0;
    public static final int MSIX_BAR = 4;
    static final long REGISTER_BAR_SIZE = 0x4000;
    static final int CAP = 0x00, VS = 0x08, INTMS = 0x0C, INTMC = 0x10, CC = 0x14, CSTS = 0x1C;
    static final int NSSR = 0x20, AQA = 0x24, ASQ = 0x28, ACQ = 0x30, DOORBELLS = 0x1000;
    static final int CC_EN = 1, CSTS_RDY = 1, CSTS_CFS = 2;
    static final int SHST_PROCESSING = 1, SHST_COMPLETE = 2;
    private static final int CC_ALWAYS = 1 | 3 << 14 | 0xF << 16 | 0xF << 20;   // EN, SHN, IOSQES, IOCQES
    private static final int CC_WHILE_DISABLED = 7 << 4 | 0xF << 7 | 7 << 11;     // CSS, MPS, AMS
    private static final LazyLogger LOG = new LazyLogger(NvmeController.class);

    private final NvmeOptions options;
    private final NvmeStorage storage;
    private final GuestMemory memory;
    private final PciInterrupts pci;
    private final MsixCapability msix;
    private final NvmeQueues queues;
    private final NvmeFeatures features;
    private final AsyncEvents events;
    private final NvmeLogPages logs;
    private final CommandPump pump;
    private final long blocks;
    private final int sectorBits;
    private final Object intxLock = new Object();
    private final AtomicInteger guestErrors = new AtomicInteger();
    private int cc;
    private int aqa;
    private long asq;
    private long acq;
    private volatile int intms;
    private volatile boolean ready;
    private boolean fatal;
    private boolean draining;
    private int shutdownState;
    private boolean shutdownPending;
    private int generation;
    private boolean intxLine;
    private int shutdownFlushes;

    /** A controller for {@code options} over {@code storage}, doing DMA in {@code memory}. */
    NvmeController(NvmeOptions options, NvmeStorage storage, GuestMemory memory, PciInterrupts pci) {
        super(new PciConfigSpace(VENDOR, DEVICE, CLASS_NVME, 0));
        this.options = options;
        this.storage = storage;
        this.memory = memory;
        this.pci = pci;
        config.put8(PciConfigSpace.INTERRUPT_PIN, 1);
        this.msix = new MsixCapability(config, pci, options.maxQueues() + 1, MSIX_BAR);
        int express = config.addCapability(0x10, 0x3C);
        config.put16(express + 2, 0x0092); // capability version 2, root complex integrated endpoint
        addBar(new PciBar(REGISTER_BAR, PciBar.Kind.MEMORY64, REGISTER_BAR_SIZE, false, new Registers()));
        addBar(new PciBar(MSIX_BAR, PciBar.Kind.MEMORY32, msix.barSize(), false, msix.handler()));

        int sectorSize = options.sectorSize() != 0 ? options.sectorSize() : storage.defaultSectorSize();
        int sectorBits = 9;
        while ((1 << sectorBits) < sectorSize) {
            sectorBits++;
        }
        this.sectorBits = sectorBits;
        this.blocks = storage.size() >> sectorBits;
        boolean dsm = switch (options.dsm()) {
            case AUTO -> storage.canDeallocate();
            case ENABLE -> true;
            case DISABLE -> false;
        };
        this.logs = new NvmeLogPages(String.format("%-8s", NvmeIdentify.FIRMWARE).getBytes(StandardCharsets.US_ASCII));
        this.queues = new NvmeQueues(options.maxQueues());
        this.features = new NvmeFeatures(options.maxQueues(), storage.volatileWriteCache(), logs, queues::vectorInUse);
        this.events = new AsyncEvents(features::asyncEventConfiguration);
        this.pump = new CommandPump(queues, events, options.ioSlots(), new Signals(), storage::submit,
                this::guestError);
        events.completer(pump::complete);
        long eui64 = options.namespaceEui64();
        NvmeAdmin.Context context = new NvmeAdmin.Context(memory, queues, features, logs, events, storage,
                options.queueEntries(), options.maxQueues() + 1,
                NvmeIdentify.controller(options.serial(), options.subsystemNqn(), dsm, storage.volatileWriteCache()),
                NvmeIdentify.namespace(blocks, sectorBits, eui64, storage.readOnly()), eui64, blocks << sectorBits);
        pump.handlers(new NvmeAdmin(context, pump),
                new NvmeIo(memory, storage, new NvmeIo.Namespace(blocks, sectorBits, dsm), logs, features, pump));
    }

    /** The register BAR: aligned dword accesses, and qword accesses to CAP, ASQ and ACQ. */
    private final class Registers implements IoHandler {
        @Override
        public long read(long offset, int size) {
            if (offset >= DOORBELLS) {
                return 0; // doorbells are write-only
            }
            synchronized (NvmeController.this) {
                if (size == 8 && (offset & 7) == 0) {
                    return Integer.toUnsignedLong(register((int) offset)) | (long) register((int) offset + 4) << 32;
                }
                if ((offset & 3) + size > 4) {
                    return 0;
                }
                return Integer.toUnsignedLong(register((int) offset & ~3)) >>> (8 * (offset & 3)) & IoHandler.mask(size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (offset >= DOORBELLS) {
                doorbell(offset, size, value);
                return;
            }
            synchronized (NvmeController.this) {
                if (size == 8 && (offset & 7) == 0) {
                    writeRegister((int) offset, (int) value);
                    writeRegister((int) offset + 4, (int) (value >>> 32));
                } else if (size == 4 && (offset & 3) == 0) {
                    writeRegister((int) offset, (int) value);
                }
            }
        }
    }

    private int register(int offset) {
        return switch (offset) {
            case CAP -> (options.queueEntries() - 1) & 0xFFFF | 1 << 16 | 60 << 24;
            case CAP + 4 -> 1 << (37 - 32);
            case VS -> 0x00010400;
            case INTMS, INTMC -> intms;
            case CC -> cc;
            case CSTS -> (ready ? CSTS_RDY : 0) | (fatal ? CSTS_CFS : 0) | shutdownState << 2;
            case AQA -> aqa;
            case ASQ -> (int) asq;
            case ASQ + 4 -> (int) (asq >>> 32);
            case ACQ -> (int) acq;
            case ACQ + 4 -> (int) (acq >>> 32);
            default -> 0;
        };
    }

    private void writeRegister(int offset, int value) {
        switch (offset) {
            case INTMS -> {
                intms |= value;
                updateIntx();
            }
            case INTMC -> {
                intms &= ~value;
                updateIntx();
            }
            case CC -> writeControl(value);
            case AQA -> aqa = value & 0x0FFF0FFF;
            case ASQ -> asq = asq & 0xFFFFFFFF00000000L | value & 0xFFFFF000L;
            case ASQ + 4 -> asq = asq & 0xFFFFFFFFL | (long) value << 32;
            case ACQ -> acq = acq & 0xFFFFFFFF00000000L | value & 0xFFFFF000L;
            case ACQ + 4 -> acq = acq & 0xFFFFFFFFL | (long) value << 32;
            default -> { } // CAP, VS, CSTS read-only; NSSR not supported
        }
    }

    private void writeControl(int value) {
        int old = cc;
        int writable = CC_ALWAYS | ((old & CC_EN) == 0 ? CC_WHILE_DISABLED : 0);
        cc = old & ~writable | value & writable;
        boolean wasEnabled = (old & CC_EN) != 0;
        boolean enabled = (value & CC_EN) != 0;
        if (wasEnabled && !enabled) {
            reset();
        } else if (!wasEnabled && enabled) {
            enable();
        }
        if (((value >>> 14) & 3) != 0 && shutdownState == 0) { // any write with SHN set, as bhyve
            shutdownState = SHST_PROCESSING;
            shutdownPending = true;
        }
        updateReady();
        finishShutdown();
    }

    /** CC.EN 0 to 1: the admin queues from AQA/ASQ/ACQ, or CSTS.CFS if they cannot be used. */
    private void enable() {
        ready = false; // a session still draining is over as far as the host is concerned
        int sqEntries = (aqa & 0xFFF) + 1;
        int cqEntries = ((aqa >>> 16) & 0xFFF) + 1;
        int css = (cc >>> 4) & 7;
        int mps = (cc >>> 7) & 0xF;
        long sqBytes = (long) sqEntries * NvmeCommand.SIZE;
        long cqBytes = (long) cqEntries * CompletionQueue.ENTRY;
        String problem = sqEntries < 2 || cqEntries < 2 ? "admin queues of fewer than 2 entries (AQA)"
                : css != 0 ? "command set " + css + " (CC.CSS)"
                : mps != 0 ? "memory pages of " + (4 << mps) + " KiB (CC.MPS)"
                : !memory.contains(asq, sqBytes) ? "admin submission queue outside RAM"
                : !memory.contains(acq, cqBytes) ? "admin completion queue outside RAM" : null;
        if (problem != null) {
            guestError("cannot enable: " + problem + "; controller fatal status set");
            fatal = true;
            return;
        }
        CompletionQueue admin = new CompletionQueue(0, acq, cqEntries, true, 0, memory.slice(acq, cqBytes));
        queues.add(admin);
        queues.add(new SubmissionQueue(0, asq, sqEntries, admin, memory.slice(asq, sqBytes)));
    }

    /** CC.EN 1 to 0: everything the host set up is dropped. */
    private void reset() {
        queues.clear();
        events.reset();
        features.reset();
        pump.reset();
        intms = 0;
        fatal = false;
        shutdownState = 0;
        shutdownPending = false;
        generation++;
        draining = pump.inflight() > 0;
        updateIntx();
    }

    /**
     * CSTS.RDY: rises after CC.EN 0 to 1 once no request of an earlier session is running
     * (bhyve's pending_ios rule) and then stays up, however busy the controller gets; after
     * CC.EN 1 to 0 it falls once the requests of the session that ended have finished.
     */
    private void updateReady() {
        if (pump.inflight() == 0) {
            draining = false;
        }
        if ((cc & CC_EN) != 0) {
            if (!ready && !draining && !fatal && queues.sq(0) != null) {
                ready = true;
            }
        } else {
            ready = ready && draining;
        }
    }

    /** A requested shutdown flushes the backend once the running requests have ended. */
    private void finishShutdown() {
        if (!shutdownPending || pump.inflight() > 0) {
            return;
        }
        shutdownPending = false;
        int session = generation;
        shutdownFlushes++;
        pump.background(() -> {
            try {
                storage.flush();
            } catch (Exception e) {
                // the data is as durable as the host could make it; the host sees the shutdown end
            } finally {
                synchronized (NvmeController.this) {
                    if (session == generation && shutdownState == SHST_PROCESSING) {
                        shutdownState = SHST_COMPLETE;
                    }
                    shutdownFlushes--;
                    NvmeController.this.notifyAll();   // a quiesce may wait for the flush
                }
            }
        });
    }

    private void doorbell(long offset, int size, long value) {
        if (size != 4 || (offset & 3) != 0) {
            return;
        }
        long index = (offset - DOORBELLS) >>> 2;
        long qid = index >>> 1;
        if (qid >= queues.capacity() || !ready) {
            return; // beyond the doorbells of maxq queues, or not ready: ignored
        }
        int v = (int) value;
        if ((index & 1) == 0) {
            pump.tailDoorbell((int) qid, v);
        } else {
            pump.headDoorbell((int) qid, v);
        }
    }

    @Override
    protected void configWritten(int offset, int size, long value) {
        msix.configWritten();
        updateIntx();
    }

    /** INTA: high while MSI-X is off, INTMS bit 0 clear and some interrupting CQ holds entries. */
    private void updateIntx() {
        synchronized (intxLock) {
            boolean level = false;
            if (!msix.enabled() && (intms & 1) == 0) {
                for (CompletionQueue cq : queues.completionQueues()) {
                    if (cq.interrupts && cq.hasEntries()) {
                        level = true;
                        break;
                    }
                }
            }
            boolean line = level && (config.command() & PciConfigSpace.COMMAND_INTX_DISABLE) == 0;
            if (line != intxLine) {
                intxLine = line;
                pci.intx().set(line);
            }
        }
    }

    private final class Signals implements CommandPump.Signals {
        @Override
        public void completionsPosted(CompletionQueue cq) {
            if (!cq.interrupts) {
                return;
            }
            if (msix.enabled()) {
                msix.fire(cq.vector);
            } else {
                updateIntx();
            }
        }

        @Override
        public void headMoved(CompletionQueue cq) {
            if (!msix.enabled()) {
                updateIntx();
            }
        }

        @Override
        public void drained() {
            synchronized (NvmeController.this) {
                updateReady();
                finishShutdown();
                NvmeController.this.notifyAll();       // a quiesce may wait for the last request
            }
        }
    }

    /** Logs a guest mistake: the first few, then every 1000th (a hostile guest could flood the log). */
    private void guestError(String message) {
        int n = guestErrors.getAndIncrement();
        if (n < 10 || n % 1000 == 0) {
            LOG.get().warning(name() + ": " + message);
        }
    }

    /** Guest mistakes seen so far (bad doorbells, unusable admin queues). */
    int guestErrors() {
        return guestErrors.get();
    }

    /** The MSI-X capability (tests). */
    MsixCapability msix() {
        return msix;
    }

    /** Submission queue {@code qid}'s head, or -1 if it does not exist (tests). */
    int submissionHead(int qid) {
        SubmissionQueue q = queues.sq(qid);
        return q == null ? -1 : q.head;
    }

    /** The asynchronous event state (tests). */
    AsyncEvents events() {
        return events;
    }

    @Override
    public void close() {
        storage.close();
        msix.close();
    }

    // ------------------------------------------------------------ snapshot

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * Stops fetching, then waits for every fetched command but held event requests to complete
     * and for a shutdown's flush to end; CSTS is settled (RDY, SHST) as those ends would leave it.
     */
    @Override
    public void quiesce() {
        pump.pause();
        boolean interrupted = false;
        synchronized (this) {
            while (pump.inflight() > 0 || shutdownFlushes > 0 || finishWork()) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;        // the requests end on their own: keep waiting
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Applies what the end of the last request does (RDY, a shutdown's flush); true if a flush started. */
    private boolean finishWork() {
        updateReady();
        finishShutdown();
        return shutdownFlushes > 0;
    }

    /** Fetches again, starting with the commands the guest queued while the controller was quiesced. */
    @Override
    public void resumeAfterSnapshot() {
        pump.resume();
    }

    /**
     * The layout, after {@link #quiesce}:
     * <pre>
     * function state (config space, BARs)        nested MSI-X (table, pending bits)
     * i64 namespace blocks  u8 log2 block size   (compared on restore)
     * i32 CC  i32 AQA  i64 ASQ  i64 ACQ  i32 INTMS  bool CSTS.RDY  bool CSTS.CFS  u8 CSTS.SHST
     * features ({@link NvmeFeatures#saveState})    SMART counters ({@link NvmeLogPages#saveState})
     * queues ({@link NvmeQueues#saveState})        event requests and events ({@link AsyncEvents#saveState})
     * </pre>
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        if (pump.inflight() > 0) {
            throw new IllegalStateException(name() + " saved with requests in flight (not quiesced)");
        }
        saveFunctionState(out);
        out.nested(msix);
        out.i64(blocks).u8(sectorBits);
        out.i32(cc).i32(aqa).i64(asq).i64(acq).i32(intms).bool(ready).bool(fatal).u8(shutdownState);
        features.saveState(out);
        logs.saveState(out);
        queues.saveState(out);
        events.saveState(out);
    }

    /**
     * Restores a blob of {@link #saveState}: a namespace of another size or block size than the
     * backend's is refused in one line. Queues, held event requests and interrupts come back as
     * saved, then commands the guest queued before the snapshot and not yet fetched are fetched.
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        restoreFunctionState(in);
        in.nested(msix, "msix");
        long savedBlocks = in.i64();
        int savedBits = in.u8();
        if (savedBlocks != blocks || savedBits != sectorBits) {
            throw new SnapshotException(name() + ": the namespace has " + blocks + " blocks of " + (1 << sectorBits)
                    + " bytes, the snapshot " + savedBlocks + " blocks of "
                    + (savedBits < 31 ? Long.toString(1L << savedBits) : "2^" + savedBits) + " bytes");
        }
        int savedCc = in.i32();
        int savedAqa = in.i32();
        long savedAsq = in.i64();
        long savedAcq = in.i64();
        int savedIntms = in.i32();
        boolean savedReady = in.bool();
        boolean savedFatal = in.bool();
        int shst = in.u8();
        if (shst > SHST_COMPLETE) {
            throw in.invalid("CSTS.SHST is " + shst);
        }
        features.restoreState(in);
        logs.restoreState(in);
        queues.restoreState(in, memory, options.queueEntries(), options.maxQueues() + 1);
        events.restoreState(in, queues.sq(0));
        if (savedReady && ((savedCc & CC_EN) == 0 || queues.sq(0) == null)) {
            throw in.invalid("CSTS.RDY without CC.EN and admin queues");
        }
        cc = savedCc;
        aqa = savedAqa;
        asq = savedAsq;
        acq = savedAcq;
        intms = savedIntms;
        ready = savedReady;
        fatal = savedFatal;
        shutdownState = shst;
        shutdownPending = false;
        draining = false;
        updateIntx();
        pump.resume();
    }
}
