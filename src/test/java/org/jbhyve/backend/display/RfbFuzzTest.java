package org.jbhyve.backend.display;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import org.jbhyve.testing.RfbTestClient;

/**
 * Hostile viewers: garbage messages, truncated and oversized fields, security types that were
 * not offered, absurd update rectangles. The server must end only the offending connection
 * and keep serving exact pixels to the next viewer.
 */
class RfbFuzzTest {
    private static final int W = 96, H = 64;
    private static TestFrame frame;
    private static RfbServer server;

    private static synchronized RfbServer server() throws IOException {
        if (server == null) {
            frame = new TestFrame(W, H);
            frame.paint(0, 0, W, H, 0x203040);
            frame.paint(70, 40, 5, 5, 0xC0FFEE);
            server = RfbServer.start(new RfbServer.Config("127.0.0.1", 0, null, "fuzz"), frame, InputSink.NONE);
        }
        return server;
    }

    @AfterContainer
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A fresh viewer still gets the whole, exact picture. */
    private static void assertServerHealthy() throws IOException {
        try (RfbTestClient c = RfbTestClient.connect(server().address())) {
            c.requestFullUpdate();
            assertEquals(W * H, c.readUpdate().stream().mapToInt(r -> r.w() * r.h()).sum());
            assertEquals(0xC0FFEE, c.pixel(72, 42));
            assertEquals(0x203040, c.pixel(0, 0));
        }
    }

    @Provide
    Arbitrary<byte[]> messages() {
        Arbitrary<Integer> type = Arbitraries.oneOf(Arbitraries.of(0, 2, 3, 4, 5, 6, 255),
                Arbitraries.integers().between(0, 255));
        Arbitrary<byte[]> body = Arbitraries.bytes().array(byte[].class).ofMaxSize(48);
        Arbitrary<byte[]> one = Combinators.combine(type, body).as((t, b) -> {
            byte[] m = new byte[b.length + 1];
            m[0] = (byte) (int) t;
            System.arraycopy(b, 0, m, 1, b.length);
            return m;
        });
        return one.list().ofMinSize(1).ofMaxSize(6).map(list -> {
            int n = list.stream().mapToInt(a -> a.length).sum();
            byte[] all = new byte[n];
            int at = 0;
            for (byte[] a : list) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return all;
        });
    }

    @Property(tries = 150)
    void garbageMessagesHurtOnlyTheirConnection(@ForAll("messages") byte[] garbage) throws Exception {
        try (RfbTestClient c = RfbTestClient.connect(server().address())) {
            c.sendRaw(garbage);
        } catch (IOException e) {
            // the server may already have closed it: fine
        }
        assertServerHealthy();
    }

    @Property(tries = 60)
    void securityTypesThatWereNotOfferedFail(@ForAll @IntRange(min = 0, max = 255) int type,
                                             @ForAll @IntRange(min = 7, max = 8) int minor) throws Exception {
        if (type == 1) {
            return; // None is what was offered
        }
        try (Socket s = new Socket(server().address().getAddress(), server().address().getPort())) {
            s.setSoTimeout(5000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            in.readNBytes(12);
            out.write(("RFB 003.00" + minor + "\n").getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals(new byte[] {1, 1}, in.readNBytes(2));
            out.write(type);
            out.flush();
            assertEquals(1, in.readInt(), "SecurityResult: failed");
            in.readAllBytes();
        }
        assertServerHealthy();
    }

    @Property(tries = 60)
    void arbitraryVersionStringsNeverCrashTheServer(@ForAll("versions") byte[] version) throws Exception {
        try (Socket s = new Socket(server().address().getAddress(), server().address().getPort())) {
            s.setSoTimeout(5000);
            s.getInputStream().readNBytes(12);
            s.getOutputStream().write(version);
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        } catch (IOException e) {
            // reset by the server: fine
        }
        assertServerHealthy();
    }

    @Provide
    Arbitrary<byte[]> versions() {
        return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofSize(12),
                Arbitraries.strings().withChars("RFB 0123456789.\nx").ofLength(12)
                        .map(s -> s.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Property(tries = 100)
    void absurdUpdateRectanglesStayOnTheScreen(@ForAll @IntRange(max = 65535) int x, @ForAll @IntRange(max = 65535) int y,
                                               @ForAll @IntRange(max = 65535) int w, @ForAll @IntRange(max = 65535) int h)
            throws Exception {
        try (RfbTestClient c = RfbTestClient.connect(server().address())) {
            c.requestUpdate(false, x, y, w, h);
            List<RfbTestClient.Rect> rects = c.readUpdate();
            long expected = (long) Math.max(0, Math.min(W, (long) x + w) - Math.min(x, W))
                    * Math.max(0, Math.min(H, (long) y + h) - Math.min(y, H));
            for (RfbTestClient.Rect r : rects) {
                assertTrue(r.x() + r.w() <= W && r.y() + r.h() <= H && r.w() > 0 && r.h() > 0, r.toString());
            }
            assertEquals(expected, rects.stream().mapToLong(r -> (long) r.w() * r.h()).sum());
        }
    }
}
