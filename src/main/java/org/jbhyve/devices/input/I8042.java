package org.jbhyve.devices.input;

import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The PC/AT keyboard controller (Intel 8042, bhyve's {@code atkbdc.c}) with a PS/2 keyboard
 * on its first port (IRQ 1) and a PS/2 mouse on its auxiliary port (IRQ 12).
 *
 * <pre>
 * 0x60 read   output buffer: keyboard, mouse or controller byte      write  data for the keyboard,
 *                                                                           or a command's argument
 * 0x64 read   status: 0x01 OBF output buffer full, 0x02 IBF (never), 0x04 SYS (command byte bit 2),
 *             0x08 A2 last write was a command, 0x10 not inhibited (always), 0x20 AUXB OBF holds mouse data
 * 0x64 write  command:
 *   20-3F read RAM byte n (20: command byte)    60-7F write RAM byte n (60: command byte)
 *   A7/A8 disable/enable mouse port   A9 test mouse port: 00     AA self-test: 55
 *   AB test keyboard port: 00         AD/AE disable/enable keyboard port
 *   C0 read input port: 00            D0 read output port        D1 write output port (bit 0 low: reset)
 *   D2/D3 next byte appears as keyboard/mouse data                D4 next byte goes to the mouse
 *   E0 read test inputs: 00           F0-FF pulse output lines low where the bit is 0: bit 0 is
 *                                     CPU reset, so FE (the classic reboot) resets the machine
 * command byte: 0x01 keyboard IRQ, 0x02 mouse IRQ, 0x04 system flag, 0x10 keyboard port off,
 *               0x20 mouse port off, 0x40 translate set 2 to set 1
 * </pre>
 *
 * The output buffer holds one byte; when the guest has read it the next comes from the
 * controller's own answers, then the keyboard, then the mouse (each only while its port is on).
 * IRQ 1 / IRQ 12 follow "buffer full with keyboard / mouse data and its interrupt enabled" as a
 * level, so every byte loaded after a read gives the edge-triggered ISA input a new edge
 * (bhyve pulses the line per byte instead).
 *
 * <p>The command byte starts as SeaBIOS leaves it (0x65: translation, keyboard IRQ, system
 * flag, mouse port off), so a guest booted directly sees what it would after a PC BIOS, and
 * the keyboard starts with scanning on in set 2. The reset line reaches the machine through a
 * callback, run outside the controller's lock; port 0xCF9 is separate (ResetControl).
 *
 * <p>Snapshot state (layout 1), in order: the 32 bytes of controller RAM (byte 0 is the command
 * byte), the output port, the command waiting for its data byte (0, 60-7F or D1-D4) and the
 * output buffer's byte (one byte each); the flags "last write was a command", "output buffer
 * full" and "it holds mouse data"; the controller's pending answers and D3 bytes (each
 * length-prefixed, oldest first); then the keyboard and the mouse as nested blobs (see
 * {@link Ps2Keyboard}, {@link Ps2Mouse}). The IRQ 1 and IRQ 12 levels follow from the buffer and
 * the command byte; restore drives both lines to them.
 */
public final class I8042 implements Snapshottable {
    public static final int DATA_PORT = 0x60, COMMAND_PORT = 0x64, KEYBOARD_IRQ = 1, MOUSE_IRQ = 12;
    static final int STS_OBF = 0x01, STS_SYS = 0x04, STS_A2 = 0x08, STS_UNINHIBITED = 0x10, STS_AUXB = 0x20;
    static final int CB_KBD_INT = 0x01, CB_AUX_INT = 0x02, CB_SYS = 0x04, CB_KBD_OFF = 0x10, CB_AUX_OFF = 0x20;
    static final int CB_TRANSLATE = 0x40;
    static final int INITIAL_COMMAND_BYTE = CB_TRANSLATE | CB_AUX_OFF | CB_SYS | CB_KBD_INT;
    static final int CMD_READ_RAM = 0x20, CMD_WRITE_RAM = 0x60, CMD_AUX_OFF = 0xA7, CMD_AUX_ON = 0xA8;
    static final int CMD_AUX_TEST = 0xA9, CMD_SELF_TEST = 0xAA, CMD_KBD_TEST = 0xAB, CMD_KBD_OFF = 0xAD;
    static final int CMD_KBD_ON = 0xAE, CMD_READ_INPUT = 0xC0, CMD_READ_OUTPUT = 0xD0, CMD_WRITE_OUTPUT = 0xD1;
    static final int CMD_WRITE_KBD_BUFFER = 0xD2, CMD_WRITE_AUX_BUFFER = 0xD3, CMD_WRITE_AUX = 0xD4;
    static final int CMD_READ_TEST = 0xE0, CMD_PULSE = 0xF0;

    private final IrqLine keyboardIrq;
    private final IrqLine mouseIrq;
    private final Runnable resetRequest;
    private final Ps2Keyboard keyboard = new Ps2Keyboard();
    private final Ps2Mouse mouse = new Ps2Mouse();
    private final ByteQueue answers = new ByteQueue(4);   // controller answers and D2 bytes
    private final ByteQueue auxAnswers = new ByteQueue(4); // D3 bytes
    private final byte[] ram = new byte[32];
    private int outputPort = 0x03;   // reset line high (inactive), A20 on
    private int pendingCommand;
    private boolean lastWriteCommand;
    private boolean full, fullAux;
    private int output;
    private boolean keyboardLevel, mouseLevel;

    /** @param resetRequest asked to reset the machine (pulse of the CPU reset line) */
    public I8042(IrqLine keyboardIrq, IrqLine mouseIrq, Runnable resetRequest) {
        this.keyboardIrq = keyboardIrq;
        this.mouseIrq = mouseIrq;
        this.resetRequest = resetRequest;
        ram[0] = (byte) INITIAL_COMMAND_BYTE;
    }

    /** Port 0x60 (one byte). */
    public IoHandler dataPort() {
        return dataPort;
    }

    /** Port 0x64 (one byte). */
    public IoHandler commandPort() {
        return commandPort;
    }

    /** Keys from the console, for {@link InputRouter#registerKeyboard}. */
    public InputRouter.Keyboard keyboardInput() {
        return (down, keysym, keycode) -> {
            synchronized (this) {
                if (keyboard.key(down, keysym, keycode)) {
                    refill();
                }
            }
        };
    }

    /** Pointer motion from the console, for {@link InputRouter#registerPointer}. */
    public InputRouter.Pointer mouseInput() {
        return (buttons, x, y, width, height) -> {
            synchronized (this) {
                if (mouse.pointer(buttons, x, y)) {
                    refill();
                }
            }
        };
    }

    /** Registers the keyboard and mouse with {@code router} at bhyve's PS/2 priority. */
    public void attach(InputRouter router) {
        router.registerKeyboard(keyboardInput(), InputRouter.PRIORITY_PS2);
        router.registerPointer(mouseInput(), InputRouter.PRIORITY_PS2);
    }

    private final IoHandler dataPort = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (I8042.this) {
                int v = output;
                if (full) {
                    full = false;
                    fullAux = false;
                    updateIrqs();
                    refill();
                }
                return v;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            boolean reset;
            synchronized (I8042.this) {
                lastWriteCommand = false;
                reset = data((int) value & 0xFF);
                refill();
            }
            if (reset) {
                resetRequest.run();
            }
        }
    };

    private final IoHandler commandPort = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (I8042.this) {
                return (full ? STS_OBF : 0) | (full && fullAux ? STS_AUXB : 0) | (ram[0] & CB_SYS)
                        | (lastWriteCommand ? STS_A2 : 0) | STS_UNINHIBITED;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            boolean reset;
            synchronized (I8042.this) {
                lastWriteCommand = true;
                reset = command((int) value & 0xFF);
                refill();
            }
            if (reset) {
                resetRequest.run();
            }
        }
    };

    /** A controller command; returns whether it pulses the reset line. */
    private boolean command(int cmd) {
        pendingCommand = 0;
        if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
            answer(ram[cmd - CMD_READ_RAM] & 0xFF);
            return false;
        }
        if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
            pendingCommand = cmd;
            return false;
        }
        switch (cmd) {
            case CMD_AUX_OFF -> ram[0] |= CB_AUX_OFF;
            case CMD_AUX_ON -> ram[0] &= ~CB_AUX_OFF;
            case CMD_AUX_TEST, CMD_KBD_TEST, CMD_READ_INPUT, CMD_READ_TEST -> answer(0x00);
            case CMD_SELF_TEST -> {
                ram[0] |= CB_SYS;
                answer(0x55);
            }
            case CMD_KBD_OFF -> ram[0] |= CB_KBD_OFF;
            case CMD_KBD_ON -> ram[0] &= ~CB_KBD_OFF;
            case CMD_READ_OUTPUT -> answer(outputPort | (full && !fullAux ? 0x10 : 0) | (full && fullAux ? 0x20 : 0));
            case CMD_WRITE_OUTPUT, CMD_WRITE_KBD_BUFFER, CMD_WRITE_AUX_BUFFER, CMD_WRITE_AUX -> pendingCommand = cmd;
            default -> {
                return cmd >= CMD_PULSE && (cmd & 0x01) == 0;
            }
        }
        return false;
    }

    /** A byte written to port 0x60; returns whether it resets the machine. */
    private boolean data(int v) {
        int cmd = pendingCommand;
        pendingCommand = 0;
        if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
            ram[cmd - CMD_WRITE_RAM] = (byte) v;
            updateIrqs();
            return false;
        }
        switch (cmd) {
            case CMD_WRITE_OUTPUT -> {
                outputPort = v;
                return (v & 0x01) == 0;
            }
            case CMD_WRITE_KBD_BUFFER -> answers.put(v);
            case CMD_WRITE_AUX_BUFFER -> auxAnswers.put(v);
            case CMD_WRITE_AUX -> mouse.write(v);
            default -> {
                ram[0] &= ~CB_KBD_OFF; // talking to the keyboard enables its port
                keyboard.write(v);
            }
        }
        return false;
    }

    private void answer(int v) {
        answers.put(v);
    }

    /** Loads the output buffer when it is empty: controller first, then keyboard, then mouse. */
    private void refill() {
        if (!full) {
            if (!answers.isEmpty()) {
                load(answers.take(), false);
            } else if (!auxAnswers.isEmpty()) {
                load(auxAnswers.take(), true);
            } else if ((ram[0] & CB_KBD_OFF) == 0 && keyboard.hasData()) {
                load(fromKeyboard(), false);
            } else if ((ram[0] & CB_AUX_OFF) == 0 && mouse.hasData()) {
                load(mouse.read(), true);
            }
        }
        updateIrqs();
    }

    /** The next keyboard byte, translated to set 1 when the command byte asks (F0 x -> x | 0x80). */
    private int fromKeyboard() {
        int b = keyboard.read();
        if ((ram[0] & CB_TRANSLATE) == 0) {
            return b;
        }
        if (b == 0xF0 && keyboard.hasData()) {
            return Ps2Keymap.toSet1(keyboard.read()) | 0x80;
        }
        return Ps2Keymap.toSet1(b);
    }

    private void load(int v, boolean aux) {
        output = v;
        full = true;
        fullAux = aux;
    }

    private void updateIrqs() {
        boolean kbd = full && !fullAux && (ram[0] & CB_KBD_INT) != 0;
        boolean aux = full && fullAux && (ram[0] & CB_AUX_INT) != 0;
        if (kbd != keyboardLevel) {
            keyboardLevel = kbd;
            keyboardIrq.set(kbd);
        }
        if (aux != mouseLevel) {
            mouseLevel = aux;
            mouseIrq.set(aux);
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.raw(ram, 0, ram.length);
        out.u8(outputPort).u8(pendingCommand).u8(output);
        out.bool(lastWriteCommand).bool(full).bool(fullAux);
        answers.save(out);
        auxAnswers.save(out);
        out.nested(keyboard);
        out.nested(mouse);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        byte[] savedRam = in.raw(ram.length);
        int savedOutputPort = in.u8();
        int savedPending = in.u8();
        int savedOutput = in.u8();
        boolean savedLastWriteCommand = in.bool();
        boolean savedFull = in.bool();
        boolean savedFullAux = in.bool();
        boolean pendingValid = savedPending == 0 || (savedPending >= CMD_WRITE_RAM && savedPending < CMD_WRITE_RAM + 0x20)
                || (savedPending >= CMD_WRITE_OUTPUT && savedPending <= CMD_WRITE_AUX);
        if (!pendingValid) {
            throw in.invalid("controller command 0x" + Integer.toHexString(savedPending) + " waiting for data");
        }
        if (savedFullAux && !savedFull) {
            throw in.invalid("mouse data in an empty output buffer");
        }
        answers.restore(in, "the controller's answers");
        auxAnswers.restore(in, "the controller's mouse bytes");
        in.nested(keyboard, "keyboard");
        in.nested(mouse, "mouse");
        System.arraycopy(savedRam, 0, ram, 0, ram.length);
        outputPort = savedOutputPort;
        pendingCommand = savedPending;
        output = savedOutput;
        lastWriteCommand = savedLastWriteCommand;
        full = savedFull;
        fullAux = savedFullAux;
        updateIrqs();
    }

    /** The command byte (RAM byte 0), for tests and saved state. */
    synchronized int commandByte() {
        return ram[0] & 0xFF;
    }
}
