package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Create/Delete I/O queue validation (bhyve's checks), doorbell errors, back-pressure. */
class NvmeQueueTest {
    private static int createCq(NvmeFixture f, int qid, int entries, long base, int cdw11) throws Exception {
        return f.driver.admin(NvmeAdmin.CREATE_CQ, 0, base, 0, (entries - 1) << 16 | qid, cdw11).status();
    }

    private static int createSq(NvmeFixture f, int qid, int entries, long base, int cqid, int flags) throws Exception {
        return f.driver.admin(NvmeAdmin.CREATE_SQ, 0, base, 0, (entries - 1) << 16 | qid, cqid << 16 | flags).status();
    }

    @Test
    void completionQueueCreationChecks() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4", "qsz=64").started()) {
            long mem = f.guest.alloc(64 * 16, 4096);
            assertEquals(NvmeStatus.INVALID_FIELD, createCq(f, 1, 16, mem, 0), "not physically contiguous");
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(f, 0, 16, mem, 1), "admin id");
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(f, 5, 16, mem, 1), "above maxq");
            assertEquals(NvmeStatus.INVALID_FIELD, createCq(f, 1, 16, mem + 0x100, 1), "base not page aligned");
            assertEquals(NvmeStatus.INVALID_INTERRUPT_VECTOR, createCq(f, 1, 16, mem, 5 << 16 | 3), "vector 5 of 5");
            assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createCq(f, 1, 1, mem, 1), "one entry");
            assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createCq(f, 1, 65, mem, 1), "above MQES");
            assertEquals(NvmeStatus.INVALID_FIELD, createCq(f, 1, 16, 1L << 40, 1), "outside RAM");
            assertEquals(NvmeStatus.SUCCESS, createCq(f, 1, 64, mem, 4 << 16 | 3));
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(f, 1, 16, mem, 1), "exists");
        }
    }

    @Test
    void submissionQueueCreationChecks() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4", "qsz=128").started()) {
            long cq = f.guest.alloc(16 * 16, 4096);
            long sq = f.guest.alloc(64 * 128, 4096);
            assertEquals(NvmeStatus.SUCCESS, createCq(f, 2, 16, cq, 1));
            assertEquals(NvmeStatus.INVALID_FIELD, createSq(f, 1, 16, sq, 2, 0), "not physically contiguous");
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(f, 0, 16, sq, 2, 1));
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(f, 9, 16, sq, 2, 1));
            assertEquals(NvmeStatus.INVALID_FIELD, createSq(f, 1, 16, sq + 8, 2, 1));
            assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createSq(f, 1, 129, sq, 2, 1));
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(f, 1, 16, sq, 0, 1), "CQ 0 is the admin CQ");
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(f, 1, 16, sq, 5, 1), "CQ id above maxq");
            assertEquals(NvmeStatus.COMPLETION_QUEUE_INVALID, createSq(f, 1, 16, sq, 3, 1), "CQ 3 not created");
            assertEquals(NvmeStatus.INVALID_FIELD, createSq(f, 1, 128, (32L << 20) - 4096, 2, 1), "ring past RAM");
            assertEquals(NvmeStatus.SUCCESS, createSq(f, 1, 64, sq, 2, 1 | 2 << 1));
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(f, 1, 16, sq, 2, 1), "exists");
        }
    }

    @Test
    void deletionRules() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            assertEquals(NvmeStatus.INVALID_QUEUE_DELETION, f.driver.admin(NvmeAdmin.DELETE_CQ, 0, 0, 0, 1).status(),
                    "SQ 1 still posts to CQ 1");
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, f.driver.admin(NvmeAdmin.DELETE_SQ, 0, 0, 0, 0).status());
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, f.driver.admin(NvmeAdmin.DELETE_SQ, 0, 0, 0, 3).status());
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, f.driver.admin(NvmeAdmin.DELETE_CQ, 0, 0, 0, 0).status());
            long buf = f.guest.alloc(4096, 4096);
            f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            assertTrue(f.driver.await(q).ok());
            assertEquals(NvmeStatus.SUCCESS, f.driver.admin(NvmeAdmin.DELETE_SQ, 0, 0, 0, 1).status());
            assertEquals(NvmeStatus.SUCCESS, f.driver.admin(NvmeAdmin.DELETE_CQ, 0, 0, 0, 1).status());
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, f.driver.admin(NvmeAdmin.DELETE_CQ, 0, 0, 0, 1).status());
            f.driver.createPair(1, 16, false, 0); // the identifiers can be used again
        }
    }

    @Test
    void unconsumedCompletionsBlockCqDeletion() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long buf = f.guest.alloc(4096, 4096);
            f.driver.submit(q, NvmeIo.FLUSH, 1, 0, 0);
            awaitPosted(f, q);
            assertEquals(NvmeStatus.SUCCESS, f.driver.admin(NvmeAdmin.DELETE_SQ, 0, 0, 0, 1).status());
            assertEquals(NvmeStatus.INVALID_QUEUE_DELETION, f.driver.admin(NvmeAdmin.DELETE_CQ, 0, 0, 0, 1).status());
            assertNotNull(f.driver.poll(q));
            assertEquals(NvmeStatus.SUCCESS, f.driver.admin(NvmeAdmin.DELETE_CQ, 0, 0, 0, 1).status());
        }
    }

    @Test
    void numberOfQueuesLimitsIdentifiers() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=8").started()) {
            MockNvmeDriver.Completion c = f.driver.admin(NvmeAdmin.SET_FEATURES, 0, 0, 0,
                    NvmeFeatures.NUMBER_OF_QUEUES, 1 << 16 | 1);
            assertTrue(c.ok());
            assertEquals(1 << 16 | 1, c.cdw0(), "two SQs and two CQs granted");
            long mem = f.guest.alloc(4096, 4096);
            assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(f, 3, 16, mem, 1));
            assertEquals(NvmeStatus.SUCCESS, createCq(f, 2, 16, mem, 1));
            assertEquals(NvmeStatus.COMMAND_SEQUENCE_ERROR, f.driver.admin(NvmeAdmin.SET_FEATURES, 0, 0, 0,
                    NvmeFeatures.NUMBER_OF_QUEUES, 7 << 16 | 7).status(), "only once per reset");
        }
    }

    @Test
    void badDoorbellsRaiseErrorEvents() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4").started()) {
            int aer = f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            Thread.sleep(10);
            assertNull(f.driver.poll(f.driver.admin), "held until an event");
            f.driver.write32(NvmeController.DOORBELLS + 8 * 3, 1); // SQ 3 does not exist
            MockNvmeDriver.Completion c = f.driver.await(f.driver.admin);
            assertEquals(aer, c.cid());
            assertEquals(NvmeLogPages.ERROR << 16 | AsyncEvents.INVALID_DOORBELL << 8 | AsyncEvents.TYPE_ERROR, c.cdw0());

            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            aer = f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            f.driver.write32(NvmeController.DOORBELLS + 8, 16); // tail == size
            c = f.driver.await(f.driver.admin);
            assertEquals(aer, c.cid());
            assertEquals(NvmeLogPages.ERROR << 16 | AsyncEvents.INVALID_DOORBELL_VALUE << 8, c.cdw0());

            f.driver.write32(NvmeController.DOORBELLS + 8 + 4, 5); // CQ head beyond its tail: event waits
            f.driver.write32(NvmeController.DOORBELLS + 8 * 16 + 4, 5); // beyond maxq: not a doorbell
            aer = f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            c = f.driver.await(f.driver.admin);
            assertEquals(aer, c.cid(), "the remembered event completes the next request");
            assertEquals(NvmeLogPages.ERROR << 16 | AsyncEvents.INVALID_DOORBELL_VALUE << 8, c.cdw0());
            assertEquals(3, f.controller.guestErrors(), "three bad doorbells logged; beyond maxq is not a doorbell");

            long buf = f.guest.alloc(4096, 4096);
            f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            assertTrue(f.driver.await(q).ok(), "the I/O queue still works");
        }
    }

    @Test
    void fullCompletionQueueStopsFetching() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=2").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 4, false, 0); // holds 3 completions
            long buf = f.guest.alloc(4096, 4096);
            for (int i = 0; i < 3; i++) {
                f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            }
            awaitPosted(f, q);
            Thread.sleep(20);
            MockNvmeDriver.Completion[] got = new MockNvmeDriver.Completion[3];
            for (int i = 0; i < 3; i++) {
                got[i] = f.driver.poll(q, false);
                assertNotNull(got[i], "completion " + i);
            }
            f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0); // SQ tail 3 == head + 3: fetch blocked
            Thread.sleep(20);
            assertEquals(3, f.controller.submissionHead(1), "no fourth fetch while the CQ is full");
            f.driver.ringHead(q);
            MockNvmeDriver.Completion fourth = f.driver.await(q);
            assertTrue(fourth.ok());
            assertEquals(0, fourth.sqHead(), "SQ head wrapped");
        }
    }

    @Test
    void ioSlotsBoundOutstandingCommands() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=2", "ioslots=1").started()) {
            MockNvmeDriver.Pair a = f.driver.createPair(1, 32, false, 0);
            MockNvmeDriver.Pair b = f.driver.createPair(2, 32, false, 0);
            long buf = f.guest.alloc(4096, 4096);
            for (int i = 0; i < 10; i++) {
                f.driver.submit(a, NvmeIo.READ, 1, buf, 0, i, 0, 0);
                f.driver.submit(b, NvmeIo.WRITE, 1, buf, 0, i, 0, 0);
            }
            for (int i = 0; i < 10; i++) {
                assertTrue(f.driver.await(a).ok());
                assertTrue(f.driver.await(b).ok());
            }
        }
    }

    @Test
    void manyQueuesManyRequestsAllComplete() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(16, "maxq=4", "ioslots=24").started()) {
            f.driver.enableMsix(5);
            MockNvmeDriver.Pair[] pairs = new MockNvmeDriver.Pair[4];
            for (int i = 0; i < 4; i++) {
                pairs[i] = f.driver.createPair(i + 1, 16, true, i + 1);
            }
            long buf = f.guest.alloc(4096, 4096);
            for (int i = 0; i < 32; i++) { // more than ioslots: some wait for a slot
                f.driver.enqueue(pairs[i % 4], i % 3 == 0 ? NvmeIo.WRITE : NvmeIo.READ, 0, 1, buf, 0, i, 0, 0);
            }
            for (MockNvmeDriver.Pair q : pairs) {
                f.driver.ringTail(q);
            }
            int done = 0;
            long lastProgress = System.nanoTime();
            while (done < 4000) {
                f.guest.msis.tryAcquire(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                for (MockNvmeDriver.Pair q : pairs) {
                    MockNvmeDriver.Completion c;
                    boolean any = false;
                    while ((c = f.driver.poll(q, false)) != null) {
                        assertTrue(c.ok());
                        any = true;
                        done++;
                        f.driver.enqueue(q, done % 3 == 0 ? NvmeIo.WRITE : NvmeIo.READ, 0, 1, buf, 0, done % 4096, 0, 0);
                    }
                    if (any) {
                        lastProgress = System.nanoTime();
                        f.driver.ringHead(q);
                        f.driver.ringTail(q);
                    }
                }
                assertTrue(System.nanoTime() - lastProgress < 5_000_000_000L, "stalled after " + done);
            }
            assertTrue(f.driver.ready());
        }
    }

    private static void awaitPosted(NvmeFixture f, MockNvmeDriver.Pair q) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        long at = q.cq + 16L * q.cqHead + 12;
        while (((f.guest.memory.getInt(at) >>> 16) & 1) != (q.phase ? 1 : 0)) {
            assertTrue(System.nanoTime() < end, "completion posted");
            Thread.sleep(1);
        }
    }
}
