package org.jbhyve.backend.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jbhyve.testing.RfbTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** FramebufferUpdates: exact pixels in every true-colour format, zlib, tile diffs, DesktopSize. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RfbUpdateTest {
    private static final int RED = 0xFF0000, GREEN = 0x00FF00, BLUE = 0x0000FF, ORANGE = 0xFF8000, GREY = 0x404040;
    private final TestFrame frame = new TestFrame(800, 600);
    private RfbServer server;

    @BeforeEach
    void start() throws IOException {
        frame.paint(0, 0, 800, 600, GREY);
        frame.paint(0, 0, 10, 10, RED);
        frame.paint(10, 0, 10, 10, GREEN);
        frame.paint(20, 0, 10, 10, BLUE);
        frame.paint(30, 0, 10, 10, ORANGE);
        server = RfbServer.start(new RfbServer.Config("127.0.0.1", 0, null, "t"), frame, frame);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Connects, applies a format (or none), asks for the whole screen and reads it. */
    private RfbTestClient fullScreen(int[] format, int... encodings) throws IOException {
        RfbTestClient c = RfbTestClient.connect(server.address());
        if (format != null) {
            c.setPixelFormat(format[0], format[1], format[2] != 0, format[3], format[4], format[5], format[6],
                    format[7], format[8]);
        }
        if (encodings.length > 0) {
            c.setEncodings(encodings);
        }
        c.requestFullUpdate();
        List<RfbTestClient.Rect> rects = c.readUpdate();
        int area = rects.stream().mapToInt(r -> r.w() * r.h()).sum();
        assertEquals(800 * 600, area, "a full update covers the screen once");
        return c;
    }

    private static void assertColours(RfbTestClient c, int red, int green, int blue, int orange, int grey) {
        assertEquals(red, c.pixel(5, 5), "red");
        assertEquals(green, c.pixel(15, 5), "green");
        assertEquals(blue, c.pixel(25, 5), "blue");
        assertEquals(orange, c.pixel(35, 5), "orange");
        assertEquals(grey, c.pixel(799, 599), "grey");
    }

    @Test
    void rawPixelsInTheServersFormatAreTheFramebuffersValues() throws Exception {
        try (RfbTestClient c = fullScreen(null)) {
            assertColours(c, RED, GREEN, BLUE, ORANGE, GREY);
        }
    }

    @Test
    void thirtyTwoBitBigEndianAndSwappedChannels() throws Exception {
        try (RfbTestClient c = fullScreen(new int[] {32, 24, 1, 255, 255, 255, 16, 8, 0})) {
            assertColours(c, RED, GREEN, BLUE, ORANGE, GREY);
        }
        try (RfbTestClient c = fullScreen(new int[] {32, 24, 0, 255, 255, 255, 0, 8, 16})) {
            assertColours(c, 0x0000FF, 0x00FF00, 0xFF0000, 0x0080FF, 0x404040);
        }
    }

    @Test
    void sixteenBitRgb565BothByteOrders() throws Exception {
        // 565: red 31<<11, green 63<<5, blue 31; orange = 31<<11 | 32<<5; grey 0x40 -> 8, 16, 8
        int grey = 8 << 11 | 16 << 5 | 8;
        try (RfbTestClient c = fullScreen(new int[] {16, 16, 0, 31, 63, 31, 11, 5, 0})) {
            assertColours(c, 0xF800, 0x07E0, 0x001F, 0xFC00, grey);
        }
        try (RfbTestClient c = fullScreen(new int[] {16, 15, 1, 31, 31, 31, 10, 5, 0}, RfbTestClient.ZLIB)) {
            assertColours(c, 0x7C00, 0x03E0, 0x001F, 0x7C00 | 16 << 5, 8 << 10 | 8 << 5 | 8);
        }
    }

    @Test
    void eightBitRgb332() throws Exception {
        // red max 7 shift 5, green max 7 shift 2, blue max 3 shift 0; 0x80 -> 4 of 7, 0x40 -> 2 of 7, 1 of 3
        try (RfbTestClient c = fullScreen(new int[] {8, 8, 0, 7, 7, 3, 5, 2, 0})) {
            assertColours(c, 0xE0, 0x1C, 0x03, 0xE0 | 4 << 2, 2 << 5 | 2 << 2 | 1);
        }
    }

    @Test
    void zlibRectanglesDecodeToTheSamePixelsAcrossUpdates() throws Exception {
        try (RfbTestClient c = fullScreen(null, RfbTestClient.ZLIB, RfbTestClient.RAW)) {
            assertColours(c, RED, GREEN, BLUE, ORANGE, GREY);
            frame.paint(400, 300, 20, 20, 0x123456);
            c.requestUpdate(true, 0, 0, 800, 600);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            assertTrue(rects.stream().allMatch(r -> r.encoding() == RfbTestClient.ZLIB), rects.toString());
            assertEquals(0x123456, c.pixel(410, 310), "the zlib stream continues across updates");
            assertEquals(GREY, c.pixel(399, 299));
        }
    }

    @Test
    void incrementalUpdatesCarryOnlyTheChangedTiles() throws Exception {
        try (RfbTestClient c = fullScreen(null)) {
            frame.paint(130, 70, 1, 1, 0xABCDEF);
            frame.paint(700, 500, 1, 1, 0x010203);
            c.requestUpdate(true, 0, 0, 800, 600);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            assertEquals(List.of("128,64 64x64", "640,448 64x64"),
                    rects.stream().map(r -> r.x() + "," + r.y() + " " + r.w() + "x" + r.h()).toList());
            assertEquals(0xABCDEF, c.pixel(130, 70));
            assertEquals(0x010203, c.pixel(700, 500));

            c.requestUpdate(true, 0, 0, 800, 600);
            c.socket().setSoTimeout(300);
            try {
                c.readUpdate();
                throw new AssertionError("an update without changes");
            } catch (SocketTimeoutException expected) {
                // nothing changed: the request stays pending
            }
            c.socket().setSoTimeout(5000);
            frame.paint(64, 0, 128, 1, 0x00FF00); // two adjacent tiles: one rectangle
            List<RfbTestClient.Rect> later = c.readUpdate();
            assertEquals(List.of("64,0 128x64"), later.stream().map(r -> r.x() + "," + r.y() + " " + r.w() + "x" + r.h()).toList());
        }
    }

    @Test
    void incrementalRequestsAreLimitedToTheirArea() throws Exception {
        try (RfbTestClient c = fullScreen(null)) {
            frame.paint(100, 100, 300, 300, 0x777777);
            c.requestUpdate(true, 150, 150, 10, 20);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            assertEquals(List.of("150,150 10x20"), rects.stream().map(r -> r.x() + "," + r.y() + " " + r.w() + "x" + r.h()).toList());
            c.requestUpdate(true, 0, 0, 800, 600);
            int area = c.readUpdate().stream().mapToInt(r -> r.w() * r.h()).sum();
            assertTrue(area >= 300 * 300 - 200, "the rest follows: " + area);
            assertEquals(0x777777, c.pixel(399, 399));
        }
    }

    @Test
    void absurdRectanglesAreClippedToTheScreen() throws Exception {
        try (RfbTestClient c = RfbTestClient.connect(server.address())) {
            c.requestUpdate(false, 700, 500, 65535, 65535);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            for (RfbTestClient.Rect r : rects) {
                assertTrue(r.x() >= 700 && r.y() >= 500 && r.x() + r.w() <= 800 && r.y() + r.h() <= 600, r.toString());
            }
            assertEquals(100 * 100, rects.stream().mapToInt(r -> r.w() * r.h()).sum());
            c.requestUpdate(false, 65000, 65000, 10, 10);
            assertEquals(List.of(), c.readUpdate(), "an area off the screen is answered with no rectangles");
        }
    }

    @Test
    void desktopSizeTellsTheViewerAboutANewMode() throws Exception {
        try (RfbTestClient c = fullScreen(null, RfbTestClient.DESKTOP_SIZE, RfbTestClient.RAW)) {
            frame.resize(1024, 768);
            frame.paint(1000, 700, 24, 68, BLUE);
            c.requestUpdate(true, 0, 0, 800, 600);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            assertEquals(RfbTestClient.DESKTOP_SIZE, rects.getFirst().encoding());
            assertEquals(1024, c.width);
            assertEquals(768, c.height);
            assertEquals(1024 * 768, rects.stream().skip(1).mapToInt(r -> r.w() * r.h()).sum());
            assertEquals(BLUE, c.pixel(1010, 750));
        }
    }

    @Test
    void aViewerWithoutDesktopSizeKeepsTheSizeItWasTold() throws Exception {
        try (RfbTestClient c = fullScreen(null)) {
            frame.resize(640, 480);
            frame.paint(0, 0, 640, 480, RED);
            c.requestUpdate(false, 0, 0, 800, 600);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            assertTrue(rects.stream().allMatch(r -> r.x() + r.w() <= 800 && r.y() + r.h() <= 600));
            assertEquals(RED, c.pixel(639, 479));
            assertEquals(0, c.pixel(700, 500), "outside the new mode: black");
        }
    }
}
