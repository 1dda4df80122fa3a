package org.jbhyve.backend.display;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jbhyve.testing.RfbTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFB versions 3.3/3.7/3.8, None and VNC authentication, ServerInit, refusals. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RfbHandshakeTest {
    private final TestFrame frame = new TestFrame(800, 600);
    private RfbServer server;

    private RfbServer start(String password) throws IOException {
        server = RfbServer.start(new RfbServer.Config("127.0.0.1", 0, password, "vm1"), frame, frame);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void serverInitReportsTheGuestsSizeBhyvesPixelFormatAndTheName() throws Exception {
        start(null);
        try (RfbTestClient c = RfbTestClient.connect(server.address())) {
            assertEquals(800, c.width);
            assertEquals(600, c.height);
            assertEquals("vm1", c.name);
            assertArrayEquals(new byte[] {32, 24, 0, 1, 0, (byte) 255, 0, (byte) 255, 0, (byte) 255, 16, 8, 0, 0, 0, 0},
                    c.serverFormat);
        }
    }

    @Test
    void bindsLoopbackByDefaultAndRefusesNames() throws Exception {
        server = RfbServer.start(new RfbServer.Config(null, 0, null, null), frame, frame);
        assertEquals("127.0.0.1", server.address().getAddress().getHostAddress());
        IOException e = assertThrows(IOException.class,
                () -> RfbServer.start(new RfbServer.Config("localhost", 0, null, null), frame, frame));
        assertEquals("not a numeric IPv4 or IPv6 address: \"localhost\"", e.getMessage());
    }

    @Test
    void listensOnIpv6Loopback() throws Exception {
        server = RfbServer.start(new RfbServer.Config("::1", 0, null, null), frame, frame);
        try (RfbTestClient c = RfbTestClient.connect(server.address())) {
            assertEquals(800, c.width);
        }
    }

    @Test
    void aPortInUseIsAOneLineError() throws Exception {
        start(null);
        IOException e = assertThrows(IOException.class, () -> RfbServer.start(
                new RfbServer.Config("127.0.0.1", server.address().getPort(), null, null), frame, frame));
        assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + server.address().getPort() + ": "),
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 7, 8})
    void everyVersionWithoutPassword(int minor) throws Exception {
        start(null);
        try (RfbTestClient c = RfbTestClient.connect(server.address(), minor, null)) {
            assertEquals(600, c.height);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 7, 8})
    void everyVersionWithTheRightPassword(int minor) throws Exception {
        start("secret");
        try (RfbTestClient c = RfbTestClient.connect(server.address(), minor, "secret")) {
            assertEquals(800, c.width);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 7, 8})
    void aWrongPasswordIsRefused(int minor) throws Exception {
        start("secret");
        IOException e = assertThrows(IOException.class, () -> RfbTestClient.connect(server.address(), minor, "wrong"));
        assertEquals(minor == 8 ? "authentication failed: authentication failed" : "authentication failed",
                e.getMessage());
        try (RfbTestClient c = RfbTestClient.connect(server.address(), minor, "secret")) {
            assertEquals(800, c.width, "the server serves the next viewer");
        }
    }

    @Test
    void onlyTheFirstEightCharactersOfThePasswordCount() throws Exception {
        start("abcdefgh-ignored");
        try (RfbTestClient c = RfbTestClient.connect(server.address(), 8, "abcdefgh")) {
            assertEquals(800, c.width);
        }
    }

    /** The raw bytes of a 3.x handshake up to the security types, for the malformed cases. */
    private static byte[] exchange(Socket s, String version, int answer) throws IOException {
        s.setSoTimeout(5000);
        DataInputStream in = new DataInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        assertEquals("RFB 003.008\n", new String(in.readNBytes(12), StandardCharsets.US_ASCII));
        out.write(version.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (answer >= 0) {
            assertArrayEquals(new byte[] {1, 1}, in.readNBytes(2));
            out.write(answer);
            out.flush();
        }
        return in.readAllBytes();
    }

    @Test
    void aSecurityTypeThatWasNotOfferedFailsWithAReason() throws Exception {
        start(null);
        try (Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            byte[] rest = exchange(s, "RFB 003.008\n", 2);
            String reason = "authentication type mismatch";
            assertEquals(8 + reason.length(), rest.length);
            assertEquals(1, rest[3], "SecurityResult failed");
            assertEquals(reason, new String(rest, 8, reason.length(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void garbageInsteadOfAVersionClosesTheConnection() throws Exception {
        start(null);
        try (Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            assertEquals(0, exchange(s, "GET / HTTP/1", -1).length);
        }
    }

    @Test
    void olderAndUnknownVersionsSpeak33AndNewerOnes38() {
        assertEquals(3, RfbSession.clientMinorVersion("RFB 003.003\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(3, RfbSession.clientMinorVersion("RFB 003.005\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(7, RfbSession.clientMinorVersion("RFB 003.007\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(8, RfbSession.clientMinorVersion("RFB 003.889\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(8, RfbSession.clientMinorVersion("RFB 004.001\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(-1, RfbSession.clientMinorVersion("RFB 002.000\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(-1, RfbSession.clientMinorVersion("RFB 003.00x\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(-1, RfbSession.clientMinorVersion("RFB 003.008".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void tooManyViewersAreTurnedAwayWithAReason() throws Exception {
        start(null);
        List<RfbTestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < RfbServer.MAX_CLIENTS; i++) {
                clients.add(RfbTestClient.connect(server.address()));
            }
            IOException e = assertThrows(IOException.class, () -> RfbTestClient.connect(server.address(), 7, null));
            assertEquals("refused: too many viewers", e.getMessage());
            clients.removeFirst().close();
            long end = System.currentTimeMillis() + 5000;
            while (server.clients() >= RfbServer.MAX_CLIENTS && System.currentTimeMillis() < end) {
                Thread.sleep(10);
            }
            clients.add(RfbTestClient.connect(server.address()));
        } finally {
            for (RfbTestClient c : clients) {
                c.close();
            }
        }
    }

    @Test
    void awaitFirstClientReturnsOnceAViewerIsConnected() throws Exception {
        start("pw");
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                server.awaitFirstClient();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread.sleep(200);
        assertThrows(IOException.class, () -> RfbTestClient.connect(server.address(), 8, "nope"));
        waiter.join(300);
        assertTrue(waiter.isAlive(), "a viewer that failed authentication does not count");
        try (RfbTestClient c = RfbTestClient.connect(server.address(), 8, "pw")) {
            waiter.join(5000);
            assertTrue(!waiter.isAlive(), "released by the first viewer");
        }
    }

    @Test
    void closingTheServerReleasesWaitersAndDisconnectsViewers() throws Exception {
        start(null);
        RfbTestClient c = RfbTestClient.connect(server.address());
        server.close();
        server.awaitFirstClient(); // returns at once
        assertTrue(c.closedByServer());
        c.close();
    }
}
