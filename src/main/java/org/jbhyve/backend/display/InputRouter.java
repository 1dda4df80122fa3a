package org.jbhyve.backend.display;

/**
 * The VM's one console input (bhyve's {@code console.c}): viewers push keys and pointer
 * motion in, and the device registered with the highest priority for each kind receives them.
 * bhyve registers the PS/2 keyboard and mouse with priority 1 and the xHCI tablet's pointer
 * with 10, so a VM with a tablet moves the tablet, not the relative PS/2 mouse.
 *
 * <p>Thread-safe; registration normally happens while the machine is built, events arrive
 * from viewer threads afterwards.
 */
public final class InputRouter implements InputSink {
    /** A device that takes key events. */
    @FunctionalInterface
    public interface Keyboard {
        void key(boolean down, int keysym, int keycode);
    }

    /** A device that takes pointer events. */
    @FunctionalInterface
    public interface Pointer {
        void pointer(int buttons, int x, int y, int width, int height);
    }

    /** bhyve's priorities: PS/2 devices 1, the USB tablet 10. */
    public static final int PRIORITY_PS2 = 1, PRIORITY_TABLET = 10;

    private Keyboard keyboard;
    private int keyboardPriority = Integer.MIN_VALUE;
    private Pointer pointer;
    private int pointerPriority = Integer.MIN_VALUE;

    /** Offers a keyboard; it receives keys if no keyboard of higher or equal priority is registered. */
    public synchronized void registerKeyboard(Keyboard k, int priority) {
        if (priority > keyboardPriority) {
            keyboard = k;
            keyboardPriority = priority;
        }
    }

    /** Offers a pointer device; it receives motion if no pointer of higher or equal priority is registered. */
    public synchronized void registerPointer(Pointer p, int priority) {
        if (priority > pointerPriority) {
            pointer = p;
            pointerPriority = priority;
        }
    }

    @Override
    public void key(boolean down, int keysym, int keycode) {
        Keyboard k;
        synchronized (this) {
            k = keyboard;
        }
        if (k != null) {
            k.key(down, keysym, keycode);
        }
    }

    @Override
    public void pointer(int buttons, int x, int y, int width, int height) {
        Pointer p;
        synchronized (this) {
            p = pointer;
        }
        if (p != null) {
            p.pointer(buttons, x, y, width, height);
        }
    }
}
