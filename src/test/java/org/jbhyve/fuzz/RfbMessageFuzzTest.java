package org.jbhyve.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jbhyve.backend.display.FrameSource;
import org.jbhyve.backend.display.InputSink;
import org.jbhyve.backend.display.RfbServer;
import org.jbhyve.backend.display.VncAuth;
import org.junit.jupiter.api.Test;

/**
 * RFB (VNC) client messages, as the framebuffer's server reads them. The input is everything a
 * viewer sends: version string, security type, shared flag, then messages (SetPixelFormat,
 * SetEncodings, FramebufferUpdateRequest, key and pointer events, ClientCutText, QEMU extended
 * keys). Seeds are real viewers' openings (3.3, 3.7, 3.8, with raw, zlib, DesktopSize and
 * extended-key encodings, 8/16/32-bit pixel formats); mutations hit lengths, counts, pixel
 * format fields, rectangle bounds and message types. Each input is one session over an
 * in-memory connection; for an eighth of the inputs the session is given a few milliseconds to send
 * its updates before the viewer hangs up.
 *
 * <p>A crash is an exception out of the session (a malformed message must only close the
 * connection), an uncaught exception on its updater thread, the session not ending when the
 * viewer has hung up, or a well-behaved viewer (after every 16th input) not getting the ServerInit and a
 * full update.
 */
class RfbMessageFuzzTest {
    private static final int W = 64, H = 48;

    /** A connection whose viewer side is a byte array; the server's bytes are collected. */
    static final class MemorySocket extends Socket {
        private final byte[] input;
        final ByteArrayOutputStream output = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                super.write(b, off, len);
                lastWrite = System.nanoTime();
            }
        };
        volatile long lastWrite;
        private final boolean linger;
        private final int awaitOutput;
        private volatile boolean closed;

        /** {@code awaitOutput} > 0: at the end of the input, wait (up to 5 s) until the server sent that many bytes. */
        MemorySocket(byte[] input, boolean linger, int awaitOutput) {
            this.input = input;
            this.linger = linger;
            this.awaitOutput = awaitOutput;
        }

        @Override
        public InputStream getInputStream() {
            return new InputStream() {
                private int at;

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (len == 0) {
                        return 0;
                    }
                    if (at >= input.length) {
                        hangUp();
                        return -1;
                    }
                    int n = Math.min(len, input.length - at);
                    System.arraycopy(input, at, b, off, n);
                    at += n;
                    return n;
                }
            };
        }

        /** With {@code linger}, waits (up to 3 ms) until the server has stopped writing for 1 ms. */
        private void hangUp() {
            if (awaitOutput > 0) {
                long end = System.nanoTime() + 5_000_000_000L;
                while (output.size() < awaitOutput && !closed && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                return;
            }
            if (!linger || closed) {
                return;
            }
            long end = System.nanoTime() + 3_000_000;
            long start = System.nanoTime();
            while (System.nanoTime() < end && !closed) {
                if (System.nanoTime() - Math.max(lastWrite, start) > 1_000_000) {
                    return;
                }
                Thread.onSpinWait();
            }
        }

        @Override
        public OutputStream getOutputStream() {
            return output;
        }

        @Override
        public SocketAddress getRemoteSocketAddress() {
            return new InetSocketAddress("127.0.0.1", 5999);
        }

        @Override
        public void setTcpNoDelay(boolean on) {
        }

        @Override
        public void setSoTimeout(int timeout) {
        }

        @Override
        public synchronized void close() {
            closed = true;
        }
    }

    static byte[] pixelFormat(int bpp, int depth, boolean bigEndian, int max, int shifts) {
        return ByteBuffer.allocate(16).put((byte) bpp).put((byte) depth).put((byte) (bigEndian ? 1 : 0)).put((byte) 1)
                .putShort((short) max).putShort((short) max).putShort((short) max)
                .put((byte) (shifts >> 16)).put((byte) (shifts >> 8)).put((byte) shifts).array();
    }

    static byte[] opening(String version) {
        byte[] v = version.getBytes(StandardCharsets.US_ASCII);
        return version.endsWith("003\n") ? Fuzz.concat(v, new byte[] {1}) : Fuzz.concat(v, new byte[] {1, 1});
    }

    static byte[] setEncodings(int... encodings) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * encodings.length).put((byte) 2).put((byte) 0)
                .putShort((short) encodings.length);
        for (int e : encodings) {
            b.putInt(e);
        }
        return b.array();
    }

    static byte[] updateRequest(boolean incremental, int x, int y, int w, int h) {
        return ByteBuffer.allocate(10).put((byte) 3).put((byte) (incremental ? 1 : 0)).putShort((short) x)
                .putShort((short) y).putShort((short) w).putShort((short) h).array();
    }

    static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        s.add(Fuzz.concat(opening("RFB 003.008\n"), setEncodings(0, -223, -258), updateRequest(false, 0, 0, W, H)));
        s.add(Fuzz.concat(opening("RFB 003.007\n"), new byte[] {0, 0, 0, 0}, pixelFormat(16, 16, false, 31, 11 << 16 | 5 << 8),
                setEncodings(6, 0), updateRequest(false, 10, 10, 20, 20), updateRequest(true, 0, 0, W, H)));
        s.add(Fuzz.concat(opening("RFB 003.003\n"), new byte[] {0, 0, 0, 0}, pixelFormat(8, 8, true, 7, 5 << 16 | 2 << 8),
                updateRequest(false, 0, 0, 65535, 65535), new byte[] {4, 1, 0, 0, 0, 0, (byte) 0xFF, 0x0D},
                new byte[] {5, 1, 0, 10, 0, 10}, new byte[] {6, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}));
        s.add(Fuzz.concat(opening("RFB 003.008\n"), setEncodings(-258, 6), new byte[] {(byte) 255, 0, 0, 1, 0, 0, 0, 0x61,
            0, 0, 0, 0x1E}, pixelFormat(32, 24, true, 255, 0 << 16 | 8 << 8 | 16), updateRequest(false, 0, 0, W, H)));
        return s;
    }

    static final class Target implements Fuzz.Target {
        private final RfbServer server;
        private final Constructor<?> session;

        Target() throws IOException, ReflectiveOperationException {
            FrameSource frame = new FrameSource() {
                @Override
                public int width() {
                    return W;
                }

                @Override
                public int height() {
                    return H;
                }

                @Override
                public boolean copy(int width, int height, int[] into) {
                    for (int i = 0; i < width * height; i++) {
                        into[i] = i * 0x010203;
                    }
                    return true;
                }
            };
            server = RfbServer.start(new RfbServer.Config("127.0.0.1", 0, null, "fuzz"), frame, InputSink.NONE);
            Class<?> c = Class.forName("org.jbhyve.backend.display.RfbSession");
            session = c.getDeclaredConstructor(RfbServer.class, Socket.class, FrameSource.class, InputSink.class,
                    VncAuth.class, String.class, boolean.class);
            session.setAccessible(true);
            this.frame = frame;
        }

        private final FrameSource frame;
        private int inputs;

        @Override
        public List<byte[]> seeds() {
            return RfbMessageFuzzTest.seeds();
        }

        /** One session over {@code input}; returns what the server sent. */
        private byte[] serve(byte[] input, boolean linger, int awaitOutput, VncAuth auth) throws Exception {
            MemorySocket socket = new MemorySocket(input, linger, awaitOutput);
            Runnable s = (Runnable) session.newInstance(server, socket, frame, InputSink.NONE, auth, "fuzz", false);
            s.run();
            return socket.output.toByteArray();
        }

        @Override
        public void run(byte[] input) throws Exception {
            serve(input, input.length % 8 == 1, 0, input.length % 7 == 3 ? new VncAuth("secret") : null);
            if (++inputs % 16 != 0) {
                return;
            }
            int serverInit = 12 + 2 + 4 + 24 + 4 + 4;
            byte[] good = serve(seeds().getFirst(), true, serverInit + 4 + 12 + W * H * 4, null);
            ByteBuffer b = ByteBuffer.wrap(good);
            if (good.length < serverInit + 4 + 12 + W * H * 4 || b.getShort(18) != W || b.getShort(20) != H
                    || !Arrays.equals(Arrays.copyOf(good, 12), "RFB 003.008\n".getBytes(StandardCharsets.US_ASCII))) {
                throw new AssertionError("a good viewer got " + good.length + " bytes: "
                        + java.util.HexFormat.of().formatHex(Arrays.copyOf(good, Math.min(64, good.length))));
            }
        }

        @Override
        public void close() {
            server.close();
        }
    }

    @Test
    void hostileViewersOnlyCloseTheirConnection() throws Exception {
        Fuzz.check("RFB messages", 2000, new Target());
    }
}
