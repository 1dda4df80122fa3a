package org.jbhyve.backend.display;

/**
 * Where a viewer's keyboard and pointer go (bhyve's {@code console_key_event} and
 * {@code console_ptr_event}). Called from viewer threads; implementations lock for themselves
 * and return quickly.
 */
public interface InputSink {
    /**
     * A key went down or up. {@code keysym} is the X11 keysym of RFB's KeyEvent;
     * {@code keycode} is the raw key number of QEMU's extended key event (the PC/XT set 1
     * scan code, 0x80 added for E0-prefixed keys) or 0 when the viewer sent only a keysym.
     */
    void key(boolean down, int keysym, int keycode);

    /**
     * The pointer is at ({@code x}, {@code y}) on a {@code width} x {@code height} screen with
     * the buttons of {@code buttons} down (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down).
     */
    void pointer(int buttons, int x, int y, int width, int height);

    /** Input that goes nowhere. */
    InputSink NONE = new InputSink() {
        @Override
        public void key(boolean down, int keysym, int keycode) {}

        @Override
        public void pointer(int buttons, int x, int y, int width, int height) {}
    };
}
