package org.jbhyve.backend.display;

/**
 * The picture a display backend shows: a guest framebuffer of {@link #width()} x
 * {@link #height()} pixels, each an int 0x00RRGGBB (bhyve's fbuf layout: 32 bits per pixel,
 * little-endian B, G, R, unused), rows packed with no padding.
 *
 * <p>The guest changes the mode and the pixels while a viewer reads them; readers take a
 * consistent size with {@link #copy} and tolerate torn pixels (the next update repairs them).
 * Implementations are thread-safe and never block on the guest.
 */
public interface FrameSource {
    /** The current width in pixels (at least 1). */
    int width();

    /** The current height in pixels (at least 1). */
    int height();

    /**
     * Copies the whole frame into {@code into} (at least {@code width * height} ints, row-major)
     * if the mode is still {@code width} x {@code height}; returns false without copying when
     * the mode changed meanwhile (the caller asks again for the new size).
     */
    boolean copy(int width, int height, int[] into);
}
