package org.jbhyve.backend.chr;

import static org.jbhyve.backend.chr.BackendTestSupport.eventually;
import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TcpBackendTest {
    private static String readN(InputStream in, int n) throws Exception {
        byte[] b = in.readNBytes(n);
        return new String(b, StandardCharsets.US_ASCII);
    }

    @Test
    void oneClientGetsTheLineBothWaysAndASecondIsRefused() throws Exception {
        try (TcpBackend tcp = TcpBackend.open("com1", "127.0.0.1:0")) {
            SerialLine line = new SerialLine(tcp);
            int port = tcp.localAddress().getPort();
            assertTrue(port > 0);
            line.send("lost");      // nobody connected: discarded
            Thread.sleep(200);
            try (Socket client = new Socket("127.0.0.1", port)) {
                client.setSoTimeout(5000);
                assertTrue(eventually(tcp::hasClient));
                line.send("login: ");
                assertEquals("login: ", readN(client.getInputStream(), 7));

                OutputStream out = client.getOutputStream();
                out.write("root\r".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertEquals("root\r", line.receive(5));

                try (Socket second = new Socket("127.0.0.1", port)) {
                    second.setSoTimeout(5000);
                    assertEquals(-1, second.getInputStream().read(), "second client closed at once");
                }
                line.send("#");
                assertEquals("#", readN(client.getInputStream(), 1), "first client still served");
            }
            assertTrue(eventually(() -> !tcp.hasClient()), "disconnect frees the slot");
            try (Socket again = new Socket("127.0.0.1", port)) {
                again.setSoTimeout(5000);
                assertTrue(eventually(tcp::hasClient));
                line.send("hi");
                assertEquals("hi", readN(again.getInputStream(), 2));
            }
            assertEquals(0, tcp.droppedBytes());
        }
    }

    @Test
    void inputBeyondTheFifoWaitsInTheBackend() throws Exception {
        try (TcpBackend tcp = TcpBackend.open("com1", "127.0.0.1:0");
                Socket client = new Socket("127.0.0.1", tcp.localAddress().getPort())) {
            SerialLine line = new SerialLine(tcp);
            String text = "x".repeat(3000) + "END";
            client.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
            assertEquals(text, line.receive(text.length()));
        }
    }

    @Test
    void closeStopsListening() throws Exception {
        TcpBackend tcp = TcpBackend.open("com1", "127.0.0.1:0");
        int port = tcp.localAddress().getPort();
        tcp.close();
        assertThrows(java.io.IOException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                s.setSoTimeout(1000);
                if (s.getInputStream().read() == -1) {
                    throw new java.io.IOException("closed");
                }
            } catch (SocketTimeoutException e) {
                fail("connection accepted after close");
            }
        });
    }

    @Test
    void addressParsing() {
        assertEquals(4321, TcpBackend.parse("com1", "0.0.0.0:4321").getPort());
        InetSocketAddress v6 = TcpBackend.parse("com1", "[::1]:4321");
        assertEquals(4321, v6.getPort());
        assertTrue(v6.getAddress() instanceof java.net.Inet6Address);
        CharBackendException e = assertThrows(CharBackendException.class, () -> TcpBackend.parse("com2", "1.2.3.4:99999"));
        assertTrue(e.getMessage().startsWith("com2: "), e.getMessage());
        assertTrue(e.getMessage().contains("tcp=1.2.3.4:99999"), e.getMessage());
        assertThrows(CharBackendException.class, () -> TcpBackend.parse("com1", "4321"));
        assertThrows(CharBackendException.class, () -> TcpBackend.parse("com1", "[::1]4321"));
        assertThrows(CharBackendException.class, () -> TcpBackend.parse("com1", ":4321"));
    }
}
