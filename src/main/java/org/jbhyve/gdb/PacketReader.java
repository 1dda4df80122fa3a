package org.jbhyve.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The receiving half of the remote serial protocol's framing (gdb manual, "Overview"): a
 * packet is {@code $payload#cc}, cc the modulo-256 sum of the payload bytes in two hex digits.
 * Between packets: {@code +} and {@code -} acknowledge the peer's last packet, byte 0x03 is an
 * interrupt request (gdb's Ctrl-C); anything else is noise and skipped. Inside a payload,
 * {@code }} escapes the next byte (XOR 0x20): binary data ({@code X}) escapes {@code $ # } *}.
 * A {@code $} inside a payload starts the packet over (the peer re-sent it).
 *
 * <p>A payload longer than {@link #MAX_PAYLOAD} bytes is read to its end and reported as
 * {@link Frame.Overlong} without being kept, so a hostile peer cannot make the server buffer
 * more than that.
 */
final class PacketReader {
    /** The largest payload kept (the PacketSize the server advertises). */
    static final int MAX_PAYLOAD = 0x4000;

    /** What came in. */
    sealed interface Frame {
        /** A packet with a good checksum, escapes removed. */
        record Packet(byte[] payload) implements Frame {
            String text() {
                return new String(payload, java.nio.charset.StandardCharsets.ISO_8859_1);
            }
        }

        /** A packet whose checksum did not match (or that ended in a dangling escape): answer '-'. */
        record Corrupt() implements Frame {}

        /** A packet longer than {@link #MAX_PAYLOAD}, checksum good: acknowledged, answered with an error. */
        record Overlong() implements Frame {}

        /** Byte 0x03 outside a packet. */
        record Interrupt() implements Frame {}

        record Ack() implements Frame {}

        record Nak() implements Frame {}

        /** The connection ended. */
        record Eof() implements Frame {}
    }

    private final InputStream in;
    private final byte[] buffer = new byte[MAX_PAYLOAD];

    PacketReader(InputStream in) {
        this.in = in;
    }

    /** The next frame; {@link Frame.Eof} at the end of the stream (then again on every call). */
    Frame next() throws IOException {
        while (true) {
            int b = in.read();
            switch (b) {
                case -1 -> {
                    return new Frame.Eof();
                }
                case '$' -> {
                    return packet();
                }
                case 0x03 -> {
                    return new Frame.Interrupt();
                }
                case '+' -> {
                    return new Frame.Ack();
                }
                case '-' -> {
                    return new Frame.Nak();
                }
                default -> {
                    // noise between packets (a line ending, a stray byte): skipped
                }
            }
        }
    }

    private Frame packet() throws IOException {
        long length = 0;
        int sum = 0;
        boolean escape = false;
        while (true) {
            int b = in.read();
            if (b == -1) {
                return new Frame.Eof();
            }
            if (b == '$') { // the peer started over
                length = 0;
                sum = 0;
                escape = false;
                continue;
            }
            if (b == '#') {
                break;
            }
            sum += b;
            if (escape) {
                b ^= 0x20;
                escape = false;
            } else if (b == '}') {
                escape = true;
                continue;
            }
            if (length < buffer.length) {
                buffer[(int) length] = (byte) b;
            }
            length++;
        }
        int hi = Hex.digit(in.read());
        int lo = Hex.digit(in.read());
        if (hi < 0 || lo < 0 || ((hi << 4) | lo) != (sum & 0xFF) || escape) {
            return new Frame.Corrupt();
        }
        if (length > buffer.length) {
            return new Frame.Overlong();
        }
        return new Frame.Packet(Arrays.copyOf(buffer, (int) length));
    }
}
