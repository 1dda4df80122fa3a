package org.jbhyve.devices.input;

import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * A PS/2 (MF2) keyboard as the 8042 sees it: bytes from the host are commands, the keyboard
 * answers and reports keys through a 16-byte buffer.
 *
 * <pre>
 * FF reset           FA, then AA (self-test passed); scanning on, set 2, defaults
 * FE resend          the last byte sent again
 * F6 set defaults    FA          F5 disable (defaults, scanning off)  FA     F4 enable  FA
 * F3 typematic       FA, rate byte, FA (accepted, no repeat is generated: viewers repeat)
 * F2 identify        FA AB 83    F0 scan code set  FA, then 0: FA + current set | 1..3: FA
 * EE echo            EE          ED set LEDs       FA, LED byte, FA
 * F7..FD (set 3 key types)  FA   anything else     FE (resend: not understood)
 * </pre>
 * Key bytes come from {@link Ps2Keymap} in set 2, or set 1 if the guest chose it (then
 * without the controller's translation, or it would translate twice). A key whose bytes do not
 * all fit in the buffer is dropped whole, so the guest never sees half a sequence. While
 * scanning is off keys are dropped, as a real keyboard does.
 *
 * <p>Not thread-safe: {@link I8042} calls it under its lock.
 *
 * <p>Snapshot state (layout 1), in order: the output buffer's bytes (oldest first,
 * length-prefixed), scanning on, the scan set (1-3), the command waiting for its argument (0, ED,
 * F0 or F3), the last byte sent (for resend) and the LEDs (bits 2:0), one byte each.
 */
final class Ps2Keyboard implements Snapshottable {
    static final int ACK = 0xFA, RESEND = 0xFE, BAT_OK = 0xAA, ECHO = 0xEE;
    static final int CMD_SET_LEDS = 0xED, CMD_ECHO = 0xEE, CMD_SCAN_SET = 0xF0, CMD_IDENTIFY = 0xF2;
    static final int CMD_TYPEMATIC = 0xF3, CMD_ENABLE = 0xF4, CMD_DISABLE = 0xF5, CMD_DEFAULTS = 0xF6;
    static final int CMD_RESEND = 0xFE, CMD_RESET = 0xFF;
    static final int BUFFER = 16;

    private final ByteQueue queue = new ByteQueue(BUFFER);
    private boolean scanning = true;
    private int scanSet = 2;
    private int pendingCommand;
    private int lastSent = ACK;
    private int leds;

    /** A byte the host wrote to the keyboard. */
    void write(int value) {
        value &= 0xFF;
        if (pendingCommand != 0) {
            int command = pendingCommand;
            pendingCommand = 0;
            switch (command) {
                case CMD_SET_LEDS -> {
                    leds = value & 0x07;
                    reply(ACK);
                }
                case CMD_TYPEMATIC -> reply(ACK);
                case CMD_SCAN_SET -> {
                    if (value == 0) {
                        reply(ACK);
                        reply(scanSet);
                    } else if (value <= 3) {
                        scanSet = value;
                        reply(ACK);
                    } else {
                        reply(RESEND);
                    }
                }
                default -> throw new IllegalStateException("keyboard command " + command + " takes no argument");
            }
            return;
        }
        switch (value) {
            case CMD_RESET -> {
                defaults();
                queue.clear();
                scanning = true;
                reply(ACK);
                reply(BAT_OK);
            }
            case CMD_RESEND -> reply(lastSent);
            case CMD_DEFAULTS -> {
                defaults();
                reply(ACK);
            }
            case CMD_DISABLE -> {
                defaults();
                scanning = false;
                reply(ACK);
            }
            case CMD_ENABLE -> {
                queue.clear();
                scanning = true;
                reply(ACK);
            }
            case CMD_SET_LEDS, CMD_TYPEMATIC, CMD_SCAN_SET -> {
                pendingCommand = value;
                reply(ACK);
            }
            case CMD_IDENTIFY -> {
                reply(ACK);
                reply(0xAB);
                reply(0x83);
            }
            case CMD_ECHO -> reply(ECHO);
            default -> reply(value >= 0xF7 && value <= 0xFD ? ACK : RESEND);
        }
    }

    private void defaults() {
        scanSet = 2;
        pendingCommand = 0;
    }

    private void reply(int b) {
        queue.put(b);
    }

    /** A key from the viewer; false when it was dropped (scanning off, unknown key, buffer full). */
    boolean key(boolean down, int keysym, int keycode) {
        if (!scanning) {
            return false;
        }
        byte[] bytes = Ps2Keymap.set2(down, keysym, keycode);
        if (scanSet == 1) {
            bytes = Ps2Keymap.translate(bytes);
        }
        return bytes.length > 0 && queue.putAll(bytes);
    }

    boolean hasData() {
        return !queue.isEmpty();
    }

    /** The next byte for the controller, -1 if none. */
    int read() {
        int b = queue.take();
        if (b >= 0) {
            lastSent = b;
        }
        return b;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        queue.save(out);
        out.bool(scanning).u8(scanSet).u8(pendingCommand).u8(lastSent).u8(leds);
    }

    @Override
    public void restoreState(StateReader in, int version) {
        queue.restore(in, "the keyboard buffer");
        boolean savedScanning = in.bool();
        int savedSet = in.u8();
        int savedPending = in.u8();
        int savedLastSent = in.u8();
        int savedLeds = in.u8();
        if (savedSet < 1 || savedSet > 3) {
            throw in.invalid("keyboard scan code set " + savedSet);
        }
        if (savedPending != 0 && savedPending != CMD_SET_LEDS && savedPending != CMD_TYPEMATIC
                && savedPending != CMD_SCAN_SET) {
            throw in.invalid("keyboard command 0x" + Integer.toHexString(savedPending) + " waiting for an argument");
        }
        if (savedLeds > 0x07) {
            throw in.invalid("keyboard LEDs 0x" + Integer.toHexString(savedLeds));
        }
        scanning = savedScanning;
        scanSet = savedSet;
        pendingCommand = savedPending;
        lastSent = savedLastSent;
        leds = savedLeds;
    }

    int scanSet() {
        return scanSet;
    }

    int leds() {
        return leds;
    }
}
