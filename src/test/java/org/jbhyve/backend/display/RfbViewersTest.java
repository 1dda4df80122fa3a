package org.jbhyve.backend.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jbhyve.testing.RfbTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Several viewers, a viewer that never reads, input events and the messages that carry them. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RfbViewersTest {
    private TestFrame frame;
    private RfbServer server;

    private void start(int w, int h) throws IOException {
        frame = new TestFrame(w, h);
        server = RfbServer.start(new RfbServer.Config("127.0.0.1", 0, null, "t"), frame, frame);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void severalViewersEachSeeTheChanges() throws Exception {
        start(800, 600);
        try (RfbTestClient a = RfbTestClient.connect(server.address());
             RfbTestClient b = RfbTestClient.connect(server.address(), 3, null)) {
            a.requestFullUpdate();
            a.readUpdate();
            b.setEncodings(RfbTestClient.ZLIB);
            b.requestFullUpdate();
            b.readUpdate();
            for (int i = 1; i <= 5; i++) {
                frame.paint(i * 100, 100, 10, 10, 0x010101 * i);
                a.requestUpdate(true, 0, 0, 800, 600);
                b.requestUpdate(true, 0, 0, 800, 600);
                a.readUpdate();
                b.readUpdate();
                assertEquals(0x010101 * i, a.pixel(i * 100 + 5, 105));
                assertEquals(0x010101 * i, b.pixel(i * 100 + 5, 105));
            }
            assertEquals(2, server.clients());
        }
    }

    @Test
    void aViewerThatNeverReadsDoesNotHoldUpTheOthers() throws Exception {
        start(1920, 1080); // 8 MB per full update: more than any socket buffer holds
        frame.paint(0, 0, 1920, 1080, 0x123456);
        try (RfbTestClient stalled = RfbTestClient.connect(server.address());
             RfbTestClient good = RfbTestClient.connect(server.address())) {
            stalled.socket().setReceiveBufferSize(4096);
            for (int i = 0; i < 8; i++) {
                stalled.requestFullUpdate();
                frame.paint(0, 0, 1920, 1080, 0x123456 + i);
            }
            Thread.sleep(300); // its writer is now blocked in write(2)
            good.requestFullUpdate();
            good.readUpdate();
            long start = System.nanoTime();
            for (int i = 1; i <= 20; i++) {
                frame.paint(50, 50, 4, 4, 0x0000F0 + i);
                good.requestUpdate(true, 0, 0, 1920, 1080);
                good.readUpdate();
                assertEquals(0x0000F0 + i, good.pixel(51, 51));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 10_000, "20 updates took " + millis + " ms");
        }
        // the stalled viewer's connection is released when it goes away
        long end = System.currentTimeMillis() + 10_000;
        while (server.clients() > 0 && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        assertEquals(0, server.clients());
    }

    @Test
    void keysPointerAndQemuExtendedKeysReachTheConsole() throws Exception {
        start(800, 600);
        try (RfbTestClient c = RfbTestClient.connect(server.address())) {
            c.setEncodings(RfbTestClient.RAW, RfbTestClient.EXTENDED_KEY);
            c.requestFullUpdate();
            List<RfbTestClient.Rect> rects = c.readUpdate();
            assertTrue(rects.stream().anyMatch(r -> r.encoding() == RfbTestClient.EXTENDED_KEY),
                    "the server acknowledges QEMU's extended key events");
            c.keyEvent(true, 'a');
            c.keyEvent(false, 'a');
            c.pointerEvent(1, 10, 20);
            c.pointerEvent(0, 5000, 5000);
            c.extendedKeyEvent(true, 0xff51, 0xcb);
            assertEquals(List.of("key down 61 0", "key up 61 0", "pointer 1 10,20 of 800x600",
                    "pointer 0 799,599 of 800x600", "key down ff51 cb"), frame.awaitEvents(5));
        }
    }

    @Test
    void cutTextIsSkippedAndTheConnectionGoesOn() throws Exception {
        start(800, 600);
        try (RfbTestClient c = RfbTestClient.connect(server.address())) {
            ByteBuffer cut = ByteBuffer.allocate(8 + 5).put((byte) 6).put(new byte[3]).putInt(5).put("hello".getBytes());
            c.sendRaw(cut.array());
            c.keyEvent(true, 'q');
            assertEquals(List.of("key down 71 0"), frame.awaitEvents(1));
        }
    }

    @Test
    void anUnknownMessageEndsOnlyThatConnection() throws Exception {
        start(800, 600);
        try (RfbTestClient bad = RfbTestClient.connect(server.address());
             RfbTestClient good = RfbTestClient.connect(server.address())) {
            bad.sendRaw(new byte[] {(byte) 200});
            assertTrue(bad.closedByServer());
            good.requestFullUpdate();
            assertEquals(800 * 600, good.readUpdate().stream().mapToInt(r -> r.w() * r.h()).sum());
        }
    }

    @Test
    void aColourMapFormatIsRefused() throws Exception {
        start(800, 600);
        try (RfbTestClient c = RfbTestClient.connect(server.address())) {
            ByteBuffer msg = ByteBuffer.allocate(20).put((byte) 0).put(new byte[3])
                    .put(new byte[] {8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
            c.sendRaw(msg.array());
            assertTrue(c.closedByServer());
        }
    }
}
