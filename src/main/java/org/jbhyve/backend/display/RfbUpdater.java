package org.jbhyve.backend.display;

import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;

/**
 * The writer thread of one viewer: answers FramebufferUpdateRequests (RFC 6143 7.6.1).
 *
 * <pre>
 * FramebufferUpdate  u8 0, u8 pad, u16 number-of-rectangles, then per rectangle:
 *                    u16 x, y, width, height, s32 encoding, data
 *   raw (0)          width * height pixels in the viewer's pixel format
 *   zlib (6)         u32 length, then the raw pixels through one zlib stream that lives as long
 *                    as the connection (each rectangle ends with a sync flush)
 *   DesktopSize (-223)       no data: the framebuffer is now width x height
 *   QEMU extended key (-258) no data: the server accepts QEMU's extended key events
 * </pre>
 *
 * Incremental updates are computed against the last frame this viewer was sent: the screen is
 * cut into {@link #TILE} x {@link #TILE} tiles, a tile is sent when any of its pixels changed,
 * and runs of changed tiles in a tile row go out as one rectangle. Incremental updates leave at
 * most every {@link #INTERVAL_NANOS} (30 per second); a non-incremental request is answered
 * at once with the whole area asked for. A viewer that did not ask for DesktopSize keeps the
 * size it was told at ServerInit: it sees the new mode cut or padded with black.
 */
final class RfbUpdater implements Runnable {
    static final int TILE = 64;
    static final long INTERVAL_NANOS = 33_333_333L;
    private static final int STALE = -1; // never a captured pixel: those are masked to 24 bits

    /** A rectangle of the screen; w, h may be 0. */
    record Area(int x, int y, int w, int h) {
        /** The smallest area covering both (either may be null). */
        static Area union(Area a, Area b) {
            if (a == null) {
                return b;
            }
            if (b == null) {
                return a;
            }
            int x0 = Math.min(a.x, b.x), y0 = Math.min(a.y, b.y);
            int x1 = Math.max(a.x + a.w, b.x + b.w), y1 = Math.max(a.y + a.h, b.y + b.h);
            return new Area(x0, y0, x1 - x0, y1 - y0);
        }

        /** This area cut to a {@code width} x {@code height} screen; null if nothing is left. */
        Area clip(int width, int height) {
            int x0 = Math.min(x, width), y0 = Math.min(y, height);
            int x1 = (int) Math.min((long) x + w, width), y1 = (int) Math.min((long) y + h, height);
            return x1 > x0 && y1 > y0 ? new Area(x0, y0, x1 - x0, y1 - y0) : null;
        }
    }

    private final RfbSession session;
    private final FrameSource frame;
    private final DataOutputStream out;
    private int clientWidth, clientHeight;
    private int[] captured = new int[0];
    private int[] view = new int[0];
    private int[] lastSent;
    private byte[] pixels = new byte[0];
    private byte[] compressed = new byte[0];
    private Deflater deflater;

    RfbUpdater(RfbSession session, FrameSource frame, DataOutputStream out) {
        this.session = session;
        this.frame = frame;
        this.out = out;
        this.clientWidth = frame.width();
        this.clientHeight = frame.height();
        this.lastSent = stale(clientWidth * clientHeight);
    }

    private static int[] stale(int n) {
        int[] a = new int[n];
        Arrays.fill(a, STALE);
        return a;
    }

    @Override
    public void run() {
        long next = 0;
        try {
            while (!session.isClosed()) {
                RfbSession.Request r = session.take(next);
                if (r == null) {
                    return;
                }
                if (!serve(r)) {
                    session.putBack(r.incremental());
                }
                next = System.nanoTime() + INTERVAL_NANOS;
            }
        } catch (IOException e) {
            session.close(); // the viewer is gone or its socket broke
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (deflater != null) {
                deflater.end();
            }
        }
    }

    /** Sends what {@code r} asks for; false when it was only incremental and nothing changed. */
    boolean serve(RfbSession.Request r) throws IOException {
        int width, height;
        do {
            width = frame.width();
            height = frame.height();
            if (captured.length < width * height) {
                captured = new int[width * height];
            }
        } while (!frame.copy(width, height, captured));
        boolean resize = false;
        if ((width != clientWidth || height != clientHeight) && r.desktopSize()) {
            clientWidth = width;
            clientHeight = height;
            lastSent = stale(width * height);
            resize = true;
        }
        int[] screen = fit(captured, width, height);
        Area full = resize ? new Area(0, 0, clientWidth, clientHeight) : clipped(r.full());
        Area region = Area.union(full, clipped(r.incremental()));
        List<Area> rects = region == null ? List.of() : changedTiles(screen, region, full);
        if (!resize && !r.extendedKeyAck() && rects.isEmpty() && r.full() == null) {
            return false;
        }
        out.writeByte(0);
        out.writeByte(0);
        out.writeShort(rects.size() + (resize ? 1 : 0) + (r.extendedKeyAck() ? 1 : 0));
        if (resize) {
            header(new Area(0, 0, clientWidth, clientHeight), RfbSession.ENCODING_DESKTOP_SIZE);
        }
        if (r.extendedKeyAck()) {
            header(new Area(0, 0, clientWidth, clientHeight), RfbSession.ENCODING_EXTENDED_KEY);
        }
        for (Area a : rects) {
            rectangle(screen, a, r.format(), r.zlib());
            for (int row = a.y(); row < a.y() + a.h(); row++) {
                int at = row * clientWidth + a.x();
                System.arraycopy(screen, at, lastSent, at, a.w());
            }
        }
        out.flush();
        return true;
    }

    private Area clipped(Area a) {
        return a == null ? null : a.clip(clientWidth, clientHeight);
    }

    /** The captured frame as the viewer's clientWidth x clientHeight screen (24-bit pixels). */
    private int[] fit(int[] src, int width, int height) {
        int n = clientWidth * clientHeight;
        if (view.length < n) {
            view = new int[n];
        }
        if (width == clientWidth && height == clientHeight) {
            for (int i = 0; i < n; i++) {
                view[i] = src[i] & 0xFFFFFF;
            }
            return view;
        }
        Arrays.fill(view, 0, n, 0);
        int w = Math.min(width, clientWidth);
        for (int y = 0; y < Math.min(height, clientHeight); y++) {
            for (int x = 0; x < w; x++) {
                view[y * clientWidth + x] = src[y * width + x] & 0xFFFFFF;
            }
        }
        return view;
    }

    /**
     * The parts of {@code region} to send: each tile's share of it when the tile changed since
     * the last update or lies in {@code full}; runs in one tile row merged.
     */
    private List<Area> changedTiles(int[] screen, Area region, Area full) {
        List<Area> rects = new ArrayList<>();
        for (int ty = region.y() / TILE * TILE; ty < region.y() + region.h(); ty += TILE) {
            int y0 = Math.max(ty, region.y()), y1 = Math.min(ty + TILE, region.y() + region.h());
            int runStart = -1, runEnd = -1;
            for (int tx = region.x() / TILE * TILE; tx < region.x() + region.w(); tx += TILE) {
                int x0 = Math.max(tx, region.x()), x1 = Math.min(tx + TILE, region.x() + region.w());
                Area part = new Area(x0, y0, x1 - x0, y1 - y0);
                boolean send = (full != null && overlaps(part, full)) || changed(screen, part);
                if (send) {
                    if (runStart < 0) {
                        runStart = x0;
                    }
                    runEnd = x1;
                } else if (runStart >= 0) {
                    rects.add(new Area(runStart, y0, runEnd - runStart, y1 - y0));
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                rects.add(new Area(runStart, y0, runEnd - runStart, y1 - y0));
            }
        }
        return rects;
    }

    private static boolean overlaps(Area a, Area b) {
        return a.x() < b.x() + b.w() && b.x() < a.x() + a.w() && a.y() < b.y() + b.h() && b.y() < a.y() + a.h();
    }

    private boolean changed(int[] screen, Area a) {
        for (int row = a.y(); row < a.y() + a.h(); row++) {
            int from = row * clientWidth + a.x();
            if (!Arrays.equals(screen, from, from + a.w(), lastSent, from, from + a.w())) {
                return true;
            }
        }
        return false;
    }

    private void header(Area a, int encoding) throws IOException {
        out.writeShort(a.x());
        out.writeShort(a.y());
        out.writeShort(a.w());
        out.writeShort(a.h());
        out.writeInt(encoding);
    }

    /** One rectangle, raw or zlib, in the viewer's pixel format. */
    private void rectangle(int[] screen, Area a, PixelFormat format, boolean zlib) throws IOException {
        int size = a.w() * a.h() * format.bytesPerPixel();
        if (pixels.length < size) {
            pixels = new byte[size];
        }
        int o = 0;
        for (int row = a.y(); row < a.y() + a.h(); row++) {
            o = format.convert(screen, row * clientWidth + a.x(), a.w(), pixels, o);
        }
        if (!zlib) {
            header(a, RfbSession.ENCODING_RAW);
            out.write(pixels, 0, size);
            return;
        }
        if (deflater == null) {
            deflater = new Deflater(Deflater.BEST_SPEED);
        }
        deflater.setInput(pixels, 0, size);
        int length = 0;
        while (true) {
            if (compressed.length - length < 4096) {
                compressed = Arrays.copyOf(compressed, Math.max(compressed.length * 2, size / 2 + 8192));
            }
            int room = compressed.length - length;
            int n = deflater.deflate(compressed, length, room, Deflater.SYNC_FLUSH);
            length += n;
            if (n < room) {
                break;
            }
        }
        header(a, RfbSession.ENCODING_ZLIB);
        out.writeInt(length);
        out.write(compressed, 0, length);
    }
}
