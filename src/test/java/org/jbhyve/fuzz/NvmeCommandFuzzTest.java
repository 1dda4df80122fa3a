package org.jbhyve.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jbhyve.devices.storage.nvme.MockNvmeDriver;
import org.jbhyve.devices.storage.nvme.NvmeController;
import org.jbhyve.devices.storage.nvme.NvmeFactory;
import org.jbhyve.virtio.MockGuest;
import org.junit.jupiter.api.Test;

/**
 * NVMe commands: the input is a 64-byte submission queue entry exactly as a guest writes it,
 * then one byte choosing the admin queue or I/O queue 1. Seeds are Identify (controller,
 * namespace, active list), Get Log Page, Get/Set Features (number of queues, arbitration,
 * interrupt coalescing), Abort, Create/Delete I/O queues, and Read, Write, Write Zeroes, Flush,
 * Dataset Management on a 4 MiB RAM namespace, their PRPs and lists pointing into a data
 * window; mutations hit opcodes, flags (fused, SGL), NSIDs, PRPs, LBAs, counts and CDW10-15.
 * The command identifier is replaced by a counter so completions can be matched.
 *
 * <p>A crash is an escaped exception (the controller logs it and answers Internal Error), a
 * completion for another command, no completion within 5 s (other than for an Asynchronous
 * Event Request, which waits for an event), the controller reporting a fatal status, or the
 * controller afterwards not serving Identify and a read.
 */
class NvmeCommandFuzzTest {
    private static final long GUEST = 8 << 20;
    private static final long WINDOW = 4 << 20;
    private static final int CSTS = 0x1C, INTERNAL_ERROR = 0x06;

    static byte[] sqe(int opcode, int flags, int nsid, long prp1, long prp2, boolean io, int... cdw10to15) {
        ByteBuffer b = ByteBuffer.allocate(65).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) opcode).put(1, (byte) flags).putInt(4, nsid).putLong(24, prp1).putLong(32, prp2);
        for (int i = 0; i < cdw10to15.length; i++) {
            b.putInt(40 + 4 * i, cdw10to15[i]);
        }
        b.put(64, (byte) (io ? 1 : 0));
        return b.array();
    }

    static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        s.add(sqe(0x06, 0, 0, WINDOW, 0, false, 1));
        s.add(sqe(0x06, 0, 1, WINDOW, 0, false, 0));
        s.add(sqe(0x06, 0, 0, WINDOW + 0x800, WINDOW + 0x1000, false, 2));
        s.add(sqe(0x02, 0, -1, WINDOW, 0, false, 0x7F << 16 | 2));
        s.add(sqe(0x0A, 0, 0, 0, 0, false, 7));
        s.add(sqe(0x09, 0, 0, 0, 0, false, 8, 0x0A05));
        s.add(sqe(0x09, 0, 0, 0, 0, false, 1, 0x03030307));
        s.add(sqe(0x08, 0, 0, 0, 0, false, 1 << 16 | 1));
        s.add(sqe(0x05, 0, 0, WINDOW + 0x10000, 0, false, 15 << 16 | 2, 1));
        s.add(sqe(0x01, 0, 0, WINDOW + 0x11000, 0, false, 15 << 16 | 2, 2 << 16 | 1));
        s.add(sqe(0x00, 0, 0, 0, 0, false, 2));
        s.add(sqe(0x02, 0, 1, WINDOW + 4, WINDOW + 0x2000, true, 3, 0, 7));
        s.add(sqe(0x01, 0, 1, WINDOW, WINDOW + 0x1000, true, 9, 0, 1));
        s.add(sqe(0x02, 0, 1, WINDOW, WINDOW + 0x3000, true, 12, 0, 15)); // prp2 a PRP list
        s.add(sqe(0x08, 0, 1, 0, 0, true, 100, 0, 50));
        s.add(sqe(0x00, 0, 1, 0, 0, true));
        s.add(sqe(0x09, 0, 1, WINDOW + 0x4000, 0, true, 1, 4));
        return s;
    }

    static final class Target implements Fuzz.Target {
        private MockGuest guest;
        private NvmeController controller;
        private MockNvmeDriver driver;
        private MockNvmeDriver.Pair io;
        private int cid;
        private int resets;

        Target() throws InterruptedException {
            rig();
        }

        private void rig() throws InterruptedException {
            if (controller != null) {
                controller.close();
                guest.close();
            }
            guest = new MockGuest(GUEST);
            Map<String, String> o = Map.of("ram", "4", "maxq", "4", "dsm", "enable");
            controller = NvmeFactory.create(k -> Optional.ofNullable(o.get(k)), k -> false, "fuzz", 0, 4, 0,
                    guest.memory, guest);
            driver = new MockNvmeDriver(controller, guest);
            driver.enableDevice();
            driver.enable(16, 16);
            io = driver.createPair(1, 16, false, 0);
            // PRP list at WINDOW + 0x3000: pages after it
            for (int i = 0; i < 32; i++) {
                guest.memory.putLong(WINDOW + 0x3000 + 8L * i, WINDOW + 0x8000 + 4096L * i);
            }
        }

        @Override
        public List<byte[]> seeds() {
            return NvmeCommandFuzzTest.seeds();
        }

        @Override
        public int maxRandomLength() {
            return 65;
        }

        @Override
        public void run(byte[] input) throws Exception {
            byte[] in = Fuzz.fit(input, 65);
            boolean admin = (in[64] & 1) == 0;
            MockNvmeDriver.Pair q = admin ? driver.admin : io;
            int id = cid++ & 0xFFFF;
            in[2] = (byte) id;
            in[3] = (byte) (id >>> 8);
            guest.memory.write(q.sq + 64L * q.sqTail, Fuzz.slice(in, 0, 64));
            q.sqTail = (q.sqTail + 1) % q.sqEntries;
            driver.ringTail(q);
            int opcode = in[0] & 0xFF;
            boolean rebuild = admin && (opcode <= 1 || opcode == 4 || opcode == 5 || opcode == 0x0C);
            if (!(admin && opcode == 0x0C)) {
                MockNvmeDriver.Completion c = await(q);
                if (c.cid() != id) {
                    throw new AssertionError("completion for command " + c.cid() + ", not " + id);
                }
                if ((c.status() & 0x7FF) == INTERNAL_ERROR) {
                    throw new AssertionError("internal error: something escaped");
                }
            }
            if ((driver.read32(CSTS) & 2) != 0) {
                throw new AssertionError("controller fatal status");
            }
            if (rebuild) {   // queues created, deleted or an event request pending: reset for the next input
                if (++resets % 100 == 0) {
                    rig();      // the mock guest's allocator only grows (16 KiB a reset): keep the queues below the window
                } else {
                    driver.enable(16, 16);
                    io = driver.createPair(1, 16, false, 0);
                }
            }
            assertServes();
        }

        private MockNvmeDriver.Completion await(MockNvmeDriver.Pair q) {
            long end = System.nanoTime() + 5_000_000_000L;
            while (true) {
                MockNvmeDriver.Completion c = driver.poll(q);
                if (c != null) {
                    return c;
                }
                if (System.nanoTime() > end) {
                    throw new AssertionError("no completion on queue " + q.qid);
                }
                Thread.onSpinWait();
            }
        }

        private void assertServes() {
            driver.submit(driver.admin, 0x06, 0, WINDOW + 0x100000, 0, 1);
            MockNvmeDriver.Completion c = await(driver.admin);
            if (!c.ok() || (guest.memory.getShort(WINDOW + 0x100000) & 0xFFFF) == 0) {
                throw new AssertionError("Identify fails: status " + Integer.toHexString(c.status()));
            }
            driver.submit(io, 0x02, 1, WINDOW + 0x101000, 0, 0, 0, 0);
            c = await(io);
            if (!c.ok()) {
                throw new AssertionError("a read fails: status " + Integer.toHexString(c.status()));
            }
        }

        @Override
        public void close() {
            controller.close();
            guest.close();
        }
    }

    @Test
    void hostileCommandsCompleteWithAStatus() throws Exception {
        Fuzz.check("NVMe commands", 2000, new Target());
    }
}
