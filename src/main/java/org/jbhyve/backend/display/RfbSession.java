package org.jbhyve.backend.display;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * One viewer's connection, RFB 3.3 / 3.7 / 3.8 (RFC 6143), on its own reader thread.
 *
 * <pre>
 * handshake  S: "RFB 003.008\n"   C: "RFB 003.00x\n" (3.3 for anything below 3.7, garbage closes)
 *            3.7/3.8  S: u8 1, u8 type   C: u8 type      3.3  S: u32 type
 *            type 1 None, 2 VNC authentication (S: 16-byte challenge, C: 16-byte DES answer)
 *            SecurityResult u32 0 ok / 1 failed (3.8 always, plus a reason string on failure;
 *            3.3 and 3.7 only after VNC authentication)
 *            C: u8 shared-flag   S: ServerInit u16 width, u16 height, PIXEL_FORMAT, u32 len, name
 * messages   0 SetPixelFormat  3 pad, PIXEL_FORMAT           (true colour, 8/16/32 bpp)
 *            2 SetEncodings    1 pad, u16 n, n x s32         (0 raw, 6 zlib, -223 DesktopSize,
 *                                                           -258 QEMU extended key event)
 *            3 UpdateRequest   u8 incremental, u16 x, y, w, h
 *            4 KeyEvent        u8 down, 2 pad, u32 keysym
 *            5 PointerEvent    u8 button mask, u16 x, y
 *            6 ClientCutText   3 pad, u32 length, text       (discarded)
 *            255 QEMU          u8 subtype 0: u16 down, u32 keysym, u32 keycode
 * </pre>
 * Anything else, or a malformed field, ends the connection (the viewer's fault only). The
 * framebuffer updates are written by this session's {@link RfbUpdater} thread; the two share
 * the negotiated settings and the pending request under this object's lock.
 */
final class RfbSession implements Runnable {
    static final int SET_PIXEL_FORMAT = 0, SET_ENCODINGS = 2, UPDATE_REQUEST = 3, KEY_EVENT = 4;
    static final int POINTER_EVENT = 5, CUT_TEXT = 6, QEMU_MESSAGE = 255, QEMU_EXTENDED_KEY = 0;
    static final int ENCODING_RAW = 0, ENCODING_ZLIB = 6, ENCODING_DESKTOP_SIZE = -223, ENCODING_EXTENDED_KEY = -258;
    static final int SECURITY_NONE = 1, SECURITY_VNC = 2;
    static final int MAX_CUT_TEXT = 1 << 20;
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 30_000;
    private static final byte[] SERVER_VERSION = "RFB 003.008\n".getBytes(StandardCharsets.US_ASCII);

    private final RfbServer server;
    private final Socket socket;
    private final FrameSource frame;
    private final InputSink input;
    private final VncAuth auth;
    private final String desktopName;
    private final boolean reject;
    private volatile boolean closed;
    private DataOutputStream out;

    // Negotiated state and the pending request, guarded by this.
    private PixelFormat format = PixelFormat.XRGB8888;
    private boolean zlib, desktopSize, extendedKeyAckDue;
    private RfbUpdater.Area incremental, full;

    RfbSession(RfbServer server, Socket socket, FrameSource frame, InputSink input, VncAuth auth, String desktopName,
               boolean reject) {
        this.server = server;
        this.socket = socket;
        this.frame = frame;
        this.input = input;
        this.auth = auth;
        this.desktopName = desktopName;
        this.reject = reject;
    }

    @Override
    public void run() {
        Thread updater = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 8192));
            out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 65536));
            if (!handshake(in)) {
                return;
            }
            socket.setSoTimeout(0);
            RfbUpdater writer = new RfbUpdater(this, frame, out);
            updater = Thread.ofPlatform().name(Thread.currentThread().getName() + "-update").daemon(true).start(writer);
            server.ready(this);
            while (!closed) {
                message(in);
            }
        } catch (EOFException | SocketTimeoutException e) {
            // the viewer left or never finished the handshake
        } catch (IOException e) {
            if (!closed) {
                RfbServer.log("viewer " + socket.getRemoteSocketAddress() + ": " + e.getMessage());
            }
        } catch (ProtocolException e) {
            RfbServer.log("viewer " + socket.getRemoteSocketAddress() + " disconnected: " + e.getMessage());
        } finally {
            close();
            server.ended(this);
            if (updater != null) {
                try {
                    updater.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** A viewer broke the protocol: its connection ends, nothing else is affected. */
    static final class ProtocolException extends Exception {
        ProtocolException(String message) {
            super(message);
        }
    }

    /** Version, security and initialisation; false when the viewer was turned away. */
    private boolean handshake(DataInputStream in) throws IOException, ProtocolException {
        out.write(SERVER_VERSION);
        out.flush();
        byte[] version = in.readNBytes(12);
        int minor = clientMinorVersion(version);
        if (minor < 0) {
            throw new ProtocolException("not an RFB protocol version");
        }
        if (reject) {
            refuse(minor, "too many viewers");
            return false;
        }
        int type = auth == null ? SECURITY_NONE : SECURITY_VNC;
        if (minor >= 7) {
            out.writeByte(1);
            out.writeByte(type);
            out.flush();
            int chosen = in.readUnsignedByte();
            if (chosen != type) {
                result(minor, false, "authentication type mismatch");
                return false;
            }
        } else {
            out.writeInt(type);
        }
        boolean ok = true;
        if (type == SECURITY_VNC) {
            byte[] challenge = VncAuth.challenge();
            out.write(challenge);
            out.flush();
            ok = auth.verify(challenge, in.readNBytes(VncAuth.CHALLENGE_LENGTH));
        }
        if (minor == 8 || type == SECURITY_VNC) {
            result(minor, ok, "authentication failed");
        }
        out.flush();
        if (!ok) {
            RfbServer.log("viewer " + socket.getRemoteSocketAddress() + ": authentication failed");
            return false;
        }
        in.readUnsignedByte(); // shared-flag: every viewer shares the desktop
        int width = frame.width(), height = frame.height();
        out.writeShort(width);
        out.writeShort(height);
        out.write(PixelFormat.XRGB8888.encode());
        byte[] name = desktopName.getBytes(StandardCharsets.UTF_8);
        out.writeInt(name.length);
        out.write(name);
        out.flush();
        return true;
    }

    /** The minor version to speak (3, 7 or 8) for a ProtocolVersion message, -1 if it is not one. */
    static int clientMinorVersion(byte[] v) {
        if (v.length != 12 || v[0] != 'R' || v[1] != 'F' || v[2] != 'B' || v[3] != ' ' || v[7] != '.' || v[11] != '\n') {
            return -1;
        }
        int major = 0, minor = 0;
        for (int i = 4; i < 7; i++) {
            if (v[i] < '0' || v[i] > '9' || v[i + 4] < '0' || v[i + 4] > '9') {
                return -1;
            }
            major = major * 10 + (v[i] - '0');
            minor = minor * 10 + (v[i + 4] - '0');
        }
        if (major < 3) {
            return -1;
        }
        return major > 3 || minor >= 8 ? 8 : minor == 7 ? 7 : 3;
    }

    private void result(int minor, boolean ok, String reason) throws IOException {
        out.writeInt(ok ? 0 : 1);
        if (!ok && minor == 8) {
            writeString(reason);
        }
        out.flush();
    }

    /** Turns a viewer away before security: 3.7+ offers no security type, 3.3 sends type 0; both give a reason. */
    private void refuse(int minor, String reason) throws IOException {
        if (minor >= 7) {
            out.writeByte(0);
        } else {
            out.writeInt(0);
        }
        writeString(reason);
        out.flush();
    }

    private void writeString(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    /** Reads and acts on one client message. */
    private void message(DataInputStream in) throws IOException, ProtocolException {
        int type = in.readUnsignedByte();
        switch (type) {
            case SET_PIXEL_FORMAT -> {
                in.skipNBytes(3);
                byte[] pf = in.readNBytes(PixelFormat.WIRE_SIZE);
                if (pf.length != PixelFormat.WIRE_SIZE) {
                    throw new EOFException();
                }
                try {
                    PixelFormat f = PixelFormat.parse(pf, 0);
                    synchronized (this) {
                        format = f;
                    }
                } catch (IllegalArgumentException e) {
                    throw new ProtocolException(e.getMessage());
                }
            }
            case SET_ENCODINGS -> {
                in.skipNBytes(1);
                int n = in.readUnsignedShort();
                boolean z = false, resize = false, extKey = false;
                for (int i = 0; i < n; i++) {
                    switch (in.readInt()) {
                        case ENCODING_ZLIB -> z = true;
                        case ENCODING_DESKTOP_SIZE -> resize = true;
                        case ENCODING_EXTENDED_KEY -> extKey = true;
                        default -> { } // raw is always available; others are not produced
                    }
                }
                synchronized (this) {
                    zlib = z;
                    desktopSize = resize;
                    extendedKeyAckDue = extKey;
                    notifyAll();
                }
            }
            case UPDATE_REQUEST -> {
                boolean inc = in.readUnsignedByte() != 0;
                RfbUpdater.Area a = new RfbUpdater.Area(in.readUnsignedShort(), in.readUnsignedShort(),
                        in.readUnsignedShort(), in.readUnsignedShort());
                synchronized (this) {
                    if (inc) {
                        incremental = RfbUpdater.Area.union(incremental, a);
                    } else {
                        full = RfbUpdater.Area.union(full, a);
                    }
                    notifyAll();
                }
            }
            case KEY_EVENT -> {
                boolean down = in.readUnsignedByte() != 0;
                in.skipNBytes(2);
                input.key(down, in.readInt(), 0);
            }
            case POINTER_EVENT -> {
                int buttons = in.readUnsignedByte();
                int x = in.readUnsignedShort(), y = in.readUnsignedShort();
                int w = frame.width(), h = frame.height();
                input.pointer(buttons, Math.min(x, w - 1), Math.min(y, h - 1), w, h);
            }
            case CUT_TEXT -> {
                in.skipNBytes(3);
                int length = in.readInt();
                if (length < 0 || length > MAX_CUT_TEXT) {
                    throw new ProtocolException("cut text of " + Integer.toUnsignedString(length) + " bytes");
                }
                in.skipNBytes(length);
            }
            case QEMU_MESSAGE -> {
                int subtype = in.readUnsignedByte();
                if (subtype != QEMU_EXTENDED_KEY) {
                    throw new ProtocolException("QEMU client message subtype " + subtype + " is not supported");
                }
                boolean down = in.readUnsignedShort() != 0;
                int keysym = in.readInt();
                int keycode = in.readInt();
                input.key(down, keysym, keycode);
            }
            default -> throw new ProtocolException("unknown client message type " + type);
        }
    }

    /** The settings and requested areas an update is built from. */
    record Request(PixelFormat format, boolean zlib, boolean desktopSize, boolean extendedKeyAck,
                   RfbUpdater.Area incremental, RfbUpdater.Area full) {}

    /**
     * Waits for work for the updater: a non-incremental request at once, an incremental one not
     * before {@code notBeforeNanos} (updates are only sent when asked for; a due extended-key
     * acknowledgement rides on the next one). Takes the request (clearing it); null once the
     * session is closed.
     */
    synchronized Request take(long notBeforeNanos) throws InterruptedException {
        while (!closed) {
            boolean urgent = full != null;
            boolean due = incremental != null;
            long wait = notBeforeNanos - System.nanoTime();
            if (urgent || (due && wait <= 0)) {
                Request r = new Request(format, zlib, desktopSize, extendedKeyAckDue, incremental, full);
                incremental = null;
                full = null;
                extendedKeyAckDue = false;
                return r;
            }
            if (due) {
                wait(Math.max(1, wait / 1_000_000));
            } else {
                wait();
            }
        }
        return null;
    }

    /** Puts back an incremental request nothing could be sent for (nothing changed yet). */
    synchronized void putBack(RfbUpdater.Area area) {
        incremental = RfbUpdater.Area.union(incremental, area);
    }

    boolean isClosed() {
        return closed;
    }

    /** Ends the connection (idempotent); wakes the updater. */
    void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
