package org.jbhyve.gdb;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The sending half of the framing: {@code $payload#cc}, and the one-byte acknowledgements.
 * Payloads are sent as given; {@link #escape} prepares binary data ({@code qXfer} replies).
 * The last packet is kept so a {@code -} from the peer can be answered by sending it again.
 * Thread-safe: the reader thread acknowledges while the session thread replies.
 */
final class PacketWriter {
    private final OutputStream out;
    private byte[] last;

    PacketWriter(OutputStream out) {
        this.out = out;
    }

    synchronized void send(String payload) throws IOException {
        send(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    synchronized void send(byte[] payload) throws IOException {
        byte[] frame = new byte[payload.length + 4];
        frame[0] = '$';
        System.arraycopy(payload, 0, frame, 1, payload.length);
        int sum = checksum(payload);
        frame[payload.length + 1] = '#';
        frame[payload.length + 2] = (byte) Character.forDigit(sum >>> 4, 16);
        frame[payload.length + 3] = (byte) Character.forDigit(sum & 0xF, 16);
        last = frame;
        out.write(frame);
        out.flush();
    }

    /** Sends the last packet again (the peer answered '-'). */
    synchronized void resend() throws IOException {
        if (last != null) {
            out.write(last);
            out.flush();
        }
    }

    synchronized void ack() throws IOException {
        out.write('+');
        out.flush();
    }

    synchronized void nak() throws IOException {
        out.write('-');
        out.flush();
    }

    static int checksum(byte[] payload) {
        int sum = 0;
        for (byte b : payload) {
            sum += b & 0xFF;
        }
        return sum & 0xFF;
    }

    /** Binary data escaped for a payload: {@code $ # } *} become {@code }} and the byte XOR 0x20. */
    static byte[] escape(byte[] data, int off, int len) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(len + 16);
        for (int i = off; i < off + len; i++) {
            int c = data[i] & 0xFF;
            if (c == '$' || c == '#' || c == '}' || c == '*') {
                b.write('}');
                b.write(c ^ 0x20);
            } else {
                b.write(c);
            }
        }
        return b.toByteArray();
    }
}
