package org.jbhyve.backend.display;

import java.nio.ByteBuffer;

/**
 * RFB's PIXEL_FORMAT (RFC 6143, 7.4), 16 bytes on the wire:
 *
 * <pre>
 * +0 u8 bits-per-pixel (8, 16 or 32)   +1 u8 depth   +2 u8 big-endian-flag   +3 u8 true-colour-flag
 * +4 u16 red-max   +6 u16 green-max   +8 u16 blue-max
 * +10 u8 red-shift  +11 u8 green-shift  +12 u8 blue-shift   +13 3 bytes padding
 * </pre>
 * A true-colour pixel is {@code (R * redMax / 255) << redShift | ...} for 8-bit channels
 * R, G, B, written in bits-per-pixel / 8 bytes in the byte order the flag says. Only true
 * colour is served (colour maps are refused at {@link #parse}), as bhyve and QEMU do.
 */
public record PixelFormat(int bitsPerPixel, int depth, boolean bigEndian, int redMax, int greenMax, int blueMax,
                          int redShift, int greenShift, int blueShift) {
    /** bhyve's ServerInit format: 32 bpp, depth 24 (bhyve says 32), little-endian, 0x00RRGGBB. */
    public static final PixelFormat XRGB8888 = new PixelFormat(32, 24, false, 255, 255, 255, 16, 8, 0);
    public static final int WIRE_SIZE = 16;

    public PixelFormat {
        if (bitsPerPixel != 8 && bitsPerPixel != 16 && bitsPerPixel != 32) {
            throw new IllegalArgumentException("bits-per-pixel must be 8, 16 or 32, not " + bitsPerPixel);
        }
        for (int shift : new int[] {redShift, greenShift, blueShift}) {
            if (shift < 0 || shift >= bitsPerPixel) {
                throw new IllegalArgumentException("colour shift " + shift + " outside a " + bitsPerPixel + "-bit pixel");
            }
        }
        for (int max : new int[] {redMax, greenMax, blueMax}) {
            if (max < 0 || max > 0xFFFF) {
                throw new IllegalArgumentException("colour max " + max + " is not a 16-bit value");
            }
        }
    }

    /**
     * Reads a client's PIXEL_FORMAT; throws IllegalArgumentException for formats this server
     * does not produce (colour maps, odd pixel sizes, shifts outside the pixel).
     */
    public static PixelFormat parse(byte[] b, int off) {
        ByteBuffer in = ByteBuffer.wrap(b, off, WIRE_SIZE);
        int bpp = in.get() & 0xFF;
        int depth = in.get() & 0xFF;
        boolean big = in.get() != 0;
        boolean trueColour = in.get() != 0;
        int rmax = in.getShort() & 0xFFFF, gmax = in.getShort() & 0xFFFF, bmax = in.getShort() & 0xFFFF;
        int rs = in.get() & 0xFF, gs = in.get() & 0xFF, bs = in.get() & 0xFF;
        if (!trueColour) {
            throw new IllegalArgumentException("colour-map pixel formats are not supported");
        }
        return new PixelFormat(bpp, depth, big, rmax, gmax, bmax, rs, gs, bs);
    }

    /** The 16 wire bytes. */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(WIRE_SIZE);
        out.put((byte) bitsPerPixel).put((byte) depth).put((byte) (bigEndian ? 1 : 0)).put((byte) 1);
        out.putShort((short) redMax).putShort((short) greenMax).putShort((short) blueMax);
        out.put((byte) redShift).put((byte) greenShift).put((byte) blueShift);
        return out.array();
    }

    public int bytesPerPixel() {
        return bitsPerPixel / 8;
    }

    /** Whether pixels are sent exactly as the framebuffer holds them (no conversion). */
    public boolean isNative() {
        return bitsPerPixel == 32 && !bigEndian && redMax == 255 && greenMax == 255 && blueMax == 255
                && redShift == 16 && greenShift == 8 && blueShift == 0;
    }

    /** The pixel value (not yet in byte order) of 0x00RRGGBB. */
    public int pixel(int rgb) {
        return scale((rgb >>> 16) & 0xFF, redMax) << redShift
                | scale((rgb >>> 8) & 0xFF, greenMax) << greenShift
                | scale(rgb & 0xFF, blueMax) << blueShift;
    }

    /** An 8-bit channel scaled to 0..max, rounded to nearest. */
    static int scale(int channel, int max) {
        return (channel * max + 127) / 255;
    }

    /**
     * Converts {@code count} pixels of {@code src} from {@code srcOff} into wire bytes at
     * {@code dst[dstOff]}; returns the offset after them.
     */
    public int convert(int[] src, int srcOff, int count, byte[] dst, int dstOff) {
        int o = dstOff;
        if (isNative()) {
            for (int i = 0; i < count; i++) {
                int p = src[srcOff + i];
                dst[o] = (byte) p;
                dst[o + 1] = (byte) (p >>> 8);
                dst[o + 2] = (byte) (p >>> 16);
                dst[o + 3] = 0;
                o += 4;
            }
            return o;
        }
        int bytes = bytesPerPixel();
        int lastRgb = ~src[srcOff];
        int lastPixel = 0;
        for (int i = 0; i < count; i++) {
            int rgb = src[srcOff + i];
            if (rgb != lastRgb) {
                lastRgb = rgb;
                lastPixel = pixel(rgb);
            }
            int p = lastPixel;
            if (bytes == 1) {
                dst[o] = (byte) p;
            } else if (bigEndian) {
                for (int k = bytes - 1; k >= 0; k--) {
                    dst[o + k] = (byte) p;
                    p >>>= 8;
                }
            } else {
                for (int k = 0; k < bytes; k++) {
                    dst[o + k] = (byte) p;
                    p >>>= 8;
                }
            }
            o += bytes;
        }
        return o;
    }
}
