package org.jbhyve.control;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Newline-delimited UTF-8 lines over a connected stream socket, with a bound on line length:
 * a peer that sends more than {@link #MAX_LINE} bytes without a newline is cut off rather than
 * buffered without end.
 */
final class LineChannel implements AutoCloseable {
    static final int MAX_LINE = 64 * 1024;

    private final ByteChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(8192);
    private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

    LineChannel(ByteChannel channel) {
        this.channel = channel;
        in.flip();
    }

    /** The next line without its newline, or null at end of stream. */
    String readLine() throws IOException {
        line.reset();
        while (true) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                if (line.size() >= MAX_LINE) {
                    throw new IOException("line longer than " + MAX_LINE + " bytes");
                }
                line.write(b);
            }
            in.clear();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
        }
    }

    void writeLine(String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            channel.write(out);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
