package org.jbhyve.devices.storage.nvme;

import java.util.concurrent.TimeUnit;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.virtio.MockGuest;

/**
 * A host-side NVMe driver for tests and benchmarks: it reaches the controller only as a guest
 * would, through config space, BAR0 registers and doorbells, the MSI-X BAR, and queues and
 * buffers in {@link MockGuest} RAM.
 */
public final class MockNvmeDriver {
    public static final long MSI_ADDRESS = 0xFEE00000L;

    /** A decoded completion queue entry. */
    public record Completion(int cdw0, int sqHead, int sqId, int cid, int status) {
        public boolean ok() {
            return status == 0;
        }
    }

    /** One queue pair as the driver tracks it. */
    public static final class Pair {
        public final int qid;
        public final long sq;
        public final int sqEntries;
        public final long cq;
        public final int cqEntries;
        public int sqTail;
        public int cqHead;
        public boolean phase = true;
        private int nextCid;

        Pair(int qid, long sq, int sqEntries, long cq, int cqEntries) {
            this.qid = qid;
            this.sq = sq;
            this.sqEntries = sqEntries;
            this.cq = cq;
            this.cqEntries = cqEntries;
        }
    }

    public final MockGuest guest;
    public final NvmeController controller;
    public final IoHandler registers;
    public final IoHandler msixTable;
    public Pair admin;

    public MockNvmeDriver(NvmeController controller, MockGuest guest) {
        this.controller = controller;
        this.guest = guest;
        IoHandler regs = null;
        IoHandler table = null;
        for (PciBar bar : controller.bars()) {
            if (bar.index() == NvmeController.REGISTER_BAR) {
                regs = bar.handler();
            } else if (bar.index() == NvmeController.MSIX_BAR) {
                table = bar.handler();
            }
        }
        this.registers = regs;
        this.msixTable = table;
    }

    public int read32(int offset) {
        return (int) registers.read(offset, 4);
    }

    public long read64(int offset) {
        return registers.read(offset, 8);
    }

    public void write32(int offset, int value) {
        registers.write(offset, 4, Integer.toUnsignedLong(value));
    }

    public boolean ready() {
        return (read32(NvmeController.CSTS) & 1) != 0;
    }

    /** Waits until CSTS.RDY equals {@code rdy}; false on timeout. */
    public boolean waitReady(boolean rdy, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (ready() != rdy) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** Programs MSI-X vector {@code v} of {@code count} (data = v) and turns MSI-X on. */
    public void enableMsix(int count) {
        for (int v = 0; v < count; v++) {
            msixTable.write(16L * v, 4, MSI_ADDRESS);
            msixTable.write(16L * v + 4, 4, 0);
            msixTable.write(16L * v + 8, 4, v);
            msixTable.write(16L * v + 12, 4, 0);
        }
        int cap = controller.msix().offset();
        controller.configWrite(cap + 2, 2, 0x8000);
    }

    /** Memory decoding and bus mastering on, as firmware would. */
    public void enableDevice() {
        controller.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY | PciConfigSpace.COMMAND_BUS_MASTER);
    }

    /** SeaBIOS's sequence: CC = 0, wait !RDY, admin queues, CC = EN | IOCQES 4 | IOSQES 6, wait RDY. */
    public void enable(int sqEntries, int cqEntries) throws InterruptedException {
        write32(NvmeController.CC, 0);
        if (!waitReady(false, 5000)) {
            throw new IllegalStateException("controller did not leave ready");
        }
        long cq = guest.alloc(16L * cqEntries, 4096);
        long sq = guest.alloc(64L * sqEntries, 4096);
        admin = new Pair(0, sq, sqEntries, cq, cqEntries);
        write32(NvmeController.AQA, (cqEntries - 1) << 16 | (sqEntries - 1));
        registers.write(NvmeController.ASQ, 8, sq);
        registers.write(NvmeController.ACQ, 8, cq);
        write32(NvmeController.CC, 1 | 4 << 20 | 6 << 16);
        if (!waitReady(true, 5000)) {
            throw new IllegalStateException("controller not ready, CSTS " + read32(NvmeController.CSTS));
        }
    }

    /** Writes a command at the tail of {@code q} and rings its doorbell; returns the command id. */
    public int submit(Pair q, int opcode, int nsid, long prp1, long prp2, int... cdw10to15) {
        return submitWithFlags(q, opcode, 0, nsid, prp1, prp2, cdw10to15);
    }

    /** As {@link #submit}, with command dword 0 bits 15:8 (fused operation, PSDT) set to {@code flags}. */
    public int submitWithFlags(Pair q, int opcode, int flags, int nsid, long prp1, long prp2, int... cdw10to15) {
        int cid = enqueue(q, opcode, flags, nsid, prp1, prp2, cdw10to15);
        ringTail(q);
        return cid;
    }

    /** Writes a command at the tail of {@code q} without ringing the doorbell (see {@link #ringTail}). */
    public int enqueue(Pair q, int opcode, int flags, int nsid, long prp1, long prp2, int... cdw10to15) {
        int cid = q.nextCid++ & 0xFFFF;
        long at = q.sq + 64L * q.sqTail;
        guest.ram.asSlice(at, 64).fill((byte) 0);
        guest.memory.putInt(at, opcode & 0xFF | (flags & 0xFF) << 8 | cid << 16);
        guest.memory.putInt(at + 4, nsid);
        guest.memory.putLong(at + 24, prp1);
        guest.memory.putLong(at + 32, prp2);
        for (int i = 0; i < cdw10to15.length; i++) {
            guest.memory.putInt(at + 40 + 4L * i, cdw10to15[i]);
        }
        q.sqTail = (q.sqTail + 1) % q.sqEntries;
        return cid;
    }

    /** Tells the controller about every command queued so far on {@code q}. */
    public void ringTail(Pair q) {
        write32(NvmeController.DOORBELLS + 8 * q.qid, q.sqTail);
    }

    /** The next completion of {@code q} if the controller posted one (consumes it, rings the head doorbell). */
    public Completion poll(Pair q) {
        return poll(q, true);
    }

    /** As {@link #poll(Pair)}; {@code ring} false leaves the head doorbell for later. */
    public Completion poll(Pair q, boolean ring) {
        long at = q.cq + 16L * q.cqHead;
        int dw3 = guest.memory.getInt(at + 12);
        if (((dw3 >>> 16) & 1) != (q.phase ? 1 : 0)) {
            return null;
        }
        int dw2 = guest.memory.getInt(at + 8);
        Completion c = new Completion(guest.memory.getInt(at), dw2 & 0xFFFF, dw2 >>> 16, dw3 & 0xFFFF,
                NvmeStatus.fromField(dw3 >>> 16 & 0xFFFE));
        if (++q.cqHead == q.cqEntries) {
            q.cqHead = 0;
            q.phase = !q.phase;
        }
        if (ring) {
            ringHead(q);
        }
        return c;
    }

    public void ringHead(Pair q) {
        write32(NvmeController.DOORBELLS + 8 * q.qid + 4, q.cqHead);
    }

    /** Waits for the next completion of {@code q}; throws on timeout. */
    public Completion await(Pair q) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            Completion c = poll(q);
            if (c != null) {
                return c;
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("no completion on queue " + q.qid);
            }
            Thread.onSpinWait();
            Thread.sleep(0, 50_000);
        }
    }

    /** Runs one admin command to completion. */
    public Completion admin(int opcode, int nsid, long prp1, long prp2, int... cdw10to15) throws InterruptedException {
        submit(admin, opcode, nsid, prp1, prp2, cdw10to15);
        return await(admin);
    }

    /** Creates I/O queue pair {@code qid} (CQ then SQ, as SeaBIOS and Linux do); returns it. */
    public Pair createPair(int qid, int entries, boolean interrupts, int vector) throws InterruptedException {
        long cq = guest.alloc(16L * entries, 4096);
        long sq = guest.alloc(64L * entries, 4096);
        Completion c = admin(NvmeAdmin.CREATE_CQ, 0, cq, 0, (entries - 1) << 16 | qid,
                vector << 16 | (interrupts ? 2 : 0) | 1);
        if (!c.ok()) {
            throw new IllegalStateException("create CQ " + qid + ": status " + Integer.toHexString(c.status()));
        }
        c = admin(NvmeAdmin.CREATE_SQ, 0, sq, 0, (entries - 1) << 16 | qid, qid << 16 | 1);
        if (!c.ok()) {
            throw new IllegalStateException("create SQ " + qid + ": status " + Integer.toHexString(c.status()));
        }
        return new Pair(qid, sq, entries, cq, entries);
    }
}
