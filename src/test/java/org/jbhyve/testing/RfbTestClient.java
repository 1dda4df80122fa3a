package org.jbhyve.testing;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * A minimal RFB viewer for tests, written from RFC 6143 independently of the server: it
 * negotiates 3.3, 3.7 or 3.8, answers VNC authentication with its own DES, keeps a copy of the
 * framebuffer in the pixel format it asked for, and decodes raw, zlib and DesktopSize.
 */
public final class RfbTestClient implements AutoCloseable {
    public static final int RAW = 0, ZLIB = 6, DESKTOP_SIZE = -223, EXTENDED_KEY = -258;

    /** One rectangle of an update; {@code pixels} are the decoded bytes (empty for pseudo-encodings). */
    public record Rect(int x, int y, int w, int h, int encoding, byte[] pixels) {}

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final Inflater inflater = new Inflater();
    public int width, height;
    public String name;
    public byte[] serverFormat;
    private int bytesPerPixel = 4;
    private boolean bigEndian;
    private byte[] framebuffer;

    private RfbTestClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects with protocol 3.8 and no password. */
    public static RfbTestClient connect(InetSocketAddress server) throws IOException {
        return connect(server, 8, null);
    }

    /**
     * Connects speaking 3.{@code minor} (3, 7 or 8) and authenticates with {@code password}
     * when the server asks; throws IOException with the server's reason when it refuses.
     */
    public static RfbTestClient connect(InetSocketAddress server, int minor, String password) throws IOException {
        RfbTestClient c = new RfbTestClient(new Socket(server.getAddress(), server.getPort()));
        try {
            c.handshake(minor, password);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void handshake(int minor, String password) throws IOException {
        String version = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
        if (!version.startsWith("RFB 003.")) {
            throw new IOException("not an RFB server: " + version);
        }
        out.write(String.format("RFB 003.%03d\n", minor).getBytes(StandardCharsets.US_ASCII));
        int type;
        if (minor >= 7) {
            int n = in.readUnsignedByte();
            if (n == 0) {
                throw new IOException("refused: " + readString());
            }
            byte[] types = in.readNBytes(n);
            type = types[0];
            out.writeByte(type);
        } else {
            type = in.readInt();
            if (type == 0) {
                throw new IOException("refused: " + readString());
            }
        }
        if (type == 2) {
            byte[] challenge = in.readNBytes(16);
            out.write(desResponse(password == null ? "" : password, challenge));
        }
        if (type == 2 || minor == 8) {
            int result = in.readInt();
            if (result != 0) {
                throw new IOException("authentication failed" + (minor == 8 ? ": " + readString() : ""));
            }
        }
        out.writeByte(1); // shared
        width = in.readUnsignedShort();
        height = in.readUnsignedShort();
        serverFormat = in.readNBytes(16);
        name = readString();
        framebuffer = new byte[width * height * bytesPerPixel];
    }

    private String readString() throws IOException {
        int n = in.readInt();
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    /** What a viewer answers: DES/ECB of the challenge under the password's bit-mirrored bytes. */
    public static byte[] desResponse(String password, byte[] challenge) {
        byte[] key = new byte[8];
        byte[] p = password.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < 8 && i < p.length; i++) {
            int b = p[i] & 0xFF, r = 0;
            for (int bit = 0; bit < 8; bit++) {
                r |= ((b >> bit) & 1) << (7 - bit);
            }
            key[i] = (byte) r;
        }
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(challenge);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SetPixelFormat with true colour. */
    public void setPixelFormat(int bpp, int depth, boolean big, int rmax, int gmax, int bmax, int rs, int gs, int bs)
            throws IOException {
        out.writeByte(0);
        out.write(new byte[3]);
        out.writeByte(bpp);
        out.writeByte(depth);
        out.writeByte(big ? 1 : 0);
        out.writeByte(1);
        out.writeShort(rmax);
        out.writeShort(gmax);
        out.writeShort(bmax);
        out.writeByte(rs);
        out.writeByte(gs);
        out.writeByte(bs);
        out.write(new byte[3]);
        out.flush();
        bytesPerPixel = bpp / 8;
        bigEndian = big;
        framebuffer = new byte[width * height * bytesPerPixel];
    }

    public void setEncodings(int... encodings) throws IOException {
        out.writeByte(2);
        out.writeByte(0);
        out.writeShort(encodings.length);
        for (int e : encodings) {
            out.writeInt(e);
        }
        out.flush();
    }

    public void requestUpdate(boolean incremental, int x, int y, int w, int h) throws IOException {
        out.writeByte(3);
        out.writeByte(incremental ? 1 : 0);
        out.writeShort(x);
        out.writeShort(y);
        out.writeShort(w);
        out.writeShort(h);
        out.flush();
    }

    public void requestFullUpdate() throws IOException {
        requestUpdate(false, 0, 0, width, height);
    }

    public void keyEvent(boolean down, int keysym) throws IOException {
        out.writeByte(4);
        out.writeByte(down ? 1 : 0);
        out.writeShort(0);
        out.writeInt(keysym);
        out.flush();
    }

    public void pointerEvent(int buttons, int x, int y) throws IOException {
        out.writeByte(5);
        out.writeByte(buttons);
        out.writeShort(x);
        out.writeShort(y);
        out.flush();
    }

    public void extendedKeyEvent(boolean down, int keysym, int keycode) throws IOException {
        out.writeByte(255);
        out.writeByte(0);
        out.writeShort(down ? 1 : 0);
        out.writeInt(keysym);
        out.writeInt(keycode);
        out.flush();
    }

    /** Sends bytes as they are (for malformed messages). */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one FramebufferUpdate and applies it to the local copy. */
    public List<Rect> readUpdate() throws IOException {
        int type = in.readUnsignedByte();
        if (type != 0) {
            throw new IOException("unexpected server message " + type);
        }
        in.readUnsignedByte();
        int n = in.readUnsignedShort();
        List<Rect> rects = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int x = in.readUnsignedShort(), y = in.readUnsignedShort();
            int w = in.readUnsignedShort(), h = in.readUnsignedShort();
            int encoding = in.readInt();
            byte[] pixels = switch (encoding) {
                case RAW -> in.readNBytes(w * h * bytesPerPixel);
                case ZLIB -> inflate(in.readNBytes(in.readInt()), w * h * bytesPerPixel);
                case DESKTOP_SIZE -> {
                    width = w;
                    height = h;
                    framebuffer = new byte[w * h * bytesPerPixel];
                    yield new byte[0];
                }
                case EXTENDED_KEY -> new byte[0];
                default -> throw new IOException("unexpected encoding " + encoding);
            };
            if (encoding == RAW || encoding == ZLIB) {
                for (int row = 0; row < h; row++) {
                    System.arraycopy(pixels, row * w * bytesPerPixel, framebuffer,
                            ((y + row) * width + x) * bytesPerPixel, w * bytesPerPixel);
                }
            }
            rects.add(new Rect(x, y, w, h, encoding, pixels));
        }
        return rects;
    }

    private byte[] inflate(byte[] data, int size) throws IOException {
        inflater.setInput(data);
        byte[] result = new byte[size];
        int got = 0;
        try {
            while (got < size) {
                int k = inflater.inflate(result, got, size - got);
                if (k == 0 && (inflater.needsInput() || inflater.finished())) {
                    break;
                }
                got += k;
            }
        } catch (DataFormatException e) {
            throw new IOException(e);
        }
        if (got != size) {
            throw new IOException("zlib rectangle gave " + got + " of " + size + " bytes");
        }
        return result;
    }

    /** The pixel value at (x, y) in the client's format, assembled in its byte order. */
    public int pixel(int x, int y) {
        int at = (y * width + x) * bytesPerPixel;
        int v = 0;
        for (int i = 0; i < bytesPerPixel; i++) {
            int b = framebuffer[at + i] & 0xFF;
            v |= bigEndian ? b << (8 * (bytesPerPixel - 1 - i)) : b << (8 * i);
        }
        return v;
    }

    /** True when the server closed the connection (reads end-of-stream within the timeout). */
    public boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        socket.close();
    }
}
