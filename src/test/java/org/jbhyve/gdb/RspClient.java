package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A minimal remote-protocol client for tests: packets out, acknowledgements checked, replies in. */
final class RspClient implements AutoCloseable {
    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RspClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    static String frame(String payload) {
        return "$" + payload + "#" + String.format("%02x",
                PacketWriter.checksum(payload.getBytes(StandardCharsets.ISO_8859_1)));
    }

    void raw(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Sends a packet, expects '+', returns the reply (acknowledged). */
    String request(String payload) throws IOException {
        raw(frame(payload));
        assertEquals('+', in.read(), "acknowledged: " + payload);
        return reply();
    }

    /** Sends a packet that gets no immediate reply (c, s, vCont), expects '+'. */
    void send(String payload) throws IOException {
        raw(frame(payload));
        assertEquals('+', in.read(), "acknowledged: " + payload);
    }

    /** The next packet from the server (acknowledged); '+' and '-' before it are skipped. */
    String reply() throws IOException {
        int b;
        do {
            b = in.read();
            if (b == -1) {
                throw new IOException("connection closed");
            }
        } while (b != '$');
        StringBuilder p = new StringBuilder();
        while ((b = in.read()) != '#') {
            if (b == -1) {
                throw new IOException("connection closed inside a packet");
            }
            p.append((char) b);
        }
        String sum = "" + (char) in.read() + (char) in.read();
        assertEquals(frame(p.toString()).substring(p.length() + 2), sum, "checksum of " + p);
        out.write('+');
        out.flush();
        return p.toString();
    }

    /** The next byte from the server (an ack, a nak, or the start of a packet). */
    int read() throws IOException {
        return in.read();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
