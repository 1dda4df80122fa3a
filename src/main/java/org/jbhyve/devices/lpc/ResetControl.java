package org.jbhyve.devices.lpc;

import org.jbhyve.bus.IoHandler;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The two ways a PC guest asks to be reset, plus just enough of the 8042 keyboard controller to
 * make the second one work.
 *
 * <pre>
 * port 0xCF9  reset control register (byte): bit 1 SYS_RST (hard/soft, ignored), bit 2 RST_CPU,
 *             bit 3 FULL_RST. As in bhyve's pm.c, any write with RST_CPU set (0x06, 0x0E)
 *             resets the machine; reads return the last value written.
 * port 0x60   8042 data: reads return the controller's answer to the last command
 * port 0x64   8042 status (read) / command (write)
 *   status:   OBF 0x01 (answer waiting), IBF 0x02 (never: commands complete at once),
 *             SYS 0x04 (self-test passed, always), A2 0x08 (last write went to 0x64),
 *             INH 0x10 (1 = keyboard not inhibited)
 *   commands: 0x20 read command byte   0x60 write command byte (next byte on 0x60)
 *             0xAA self-test (0x55)    0xAB keyboard interface test (0x00)
 *             0xD0 read output port    0xD1 write output port (next byte; bit 0 clear = reset)
 *             0xF0-0xFF pulse output lines low for the bits that are 0: bit 0 is the CPU
 *             reset line, so 0xFE (the classic "reboot via keyboard controller") resets
 *             anything else is accepted and ignored
 * </pre>
 *
 * bhyve emulates a full PS/2 controller only together with fbuf; without a keyboard here,
 * bytes written for the keyboard itself are ignored and nothing raises IRQ 1.
 *
 * <p>Snapshot state (layout 1), one byte each: the reset control register, the 8042 command byte,
 * output port, pending command (0, 0x60 or 0xD1) and answer byte, then the flags "answer
 * waiting" and "last write went to 0x64".
 */
public final class ResetControl implements Snapshottable {
    public static final int RESET_CONTROL_PORT = 0xCF9;
    public static final int KBD_DATA_PORT = 0x60;
    public static final int KBD_STATUS_PORT = 0x64;

    static final int RST_CPU = 0x04;
    static final int STS_OBF = 0x01, STS_SYS = 0x04, STS_A2 = 0x08, STS_INH = 0x10;
    static final int CMD_READ_CCB = 0x20, CMD_WRITE_CCB = 0x60, CMD_SELF_TEST = 0xAA;
    static final int CMD_KBD_TEST = 0xAB, CMD_READ_OUTPUT = 0xD0, CMD_WRITE_OUTPUT = 0xD1;
    static final int CMD_PULSE_BASE = 0xF0;

    private final Runnable resetRequest;
    private int resetControl;
    private int commandByte = 0x44; // translate + system flag, interrupts off
    private int outputPort = 0x03;  // A20 enabled, reset line high (inactive)
    private int pendingCommand;
    private int outputByte;
    private boolean outputFull;
    private boolean lastWasCommand;

    /** @param resetRequest asked to reset the machine (the vCPU loop then exits with status 0) */
    public ResetControl(Runnable resetRequest) {
        this.resetRequest = resetRequest;
    }

    private final IoHandler resetRegister = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (ResetControl.this) {
                return resetControl;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            boolean reset;
            synchronized (ResetControl.this) {
                resetControl = (int) (value & 0xFF);
                reset = (resetControl & RST_CPU) != 0;
            }
            if (reset) {
                resetRequest.run();
            }
        }
    };

    private final IoHandler dataPort = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (ResetControl.this) {
                outputFull = false;
                return outputByte;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            boolean reset = false;
            synchronized (ResetControl.this) {
                lastWasCommand = false;
                int v = (int) (value & 0xFF);
                switch (pendingCommand) {
                    case CMD_WRITE_CCB -> commandByte = v;
                    case CMD_WRITE_OUTPUT -> {
                        outputPort = v;
                        reset = (v & 0x01) == 0;
                    }
                    default -> { } // a byte for the keyboard, which is not there
                }
                pendingCommand = 0;
            }
            if (reset) {
                resetRequest.run();
            }
        }
    };

    private final IoHandler commandPort = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (ResetControl.this) {
                return (outputFull ? STS_OBF : 0) | STS_SYS | (lastWasCommand ? STS_A2 : 0) | STS_INH;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            boolean reset = false;
            synchronized (ResetControl.this) {
                lastWasCommand = true;
                int cmd = (int) (value & 0xFF);
                pendingCommand = 0;
                switch (cmd) {
                    case CMD_READ_CCB -> answer(commandByte);
                    case CMD_WRITE_CCB, CMD_WRITE_OUTPUT -> pendingCommand = cmd;
                    case CMD_SELF_TEST -> answer(0x55);
                    case CMD_KBD_TEST -> answer(0x00);
                    case CMD_READ_OUTPUT -> answer(outputPort);
                    default -> reset = cmd >= CMD_PULSE_BASE && (cmd & 0x01) == 0;
                }
            }
            if (reset) {
                resetRequest.run();
            }
        }
    };

    private void answer(int value) {
        outputByte = value;
        outputFull = true;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u8(resetControl).u8(commandByte).u8(outputPort).u8(pendingCommand).u8(outputByte);
        out.bool(outputFull).bool(lastWasCommand);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int savedReset = in.u8();
        int savedCommandByte = in.u8();
        int savedOutputPort = in.u8();
        int savedPending = in.u8();
        if (savedPending != 0 && savedPending != CMD_WRITE_CCB && savedPending != CMD_WRITE_OUTPUT) {
            throw in.invalid("pending 8042 command 0x" + Integer.toHexString(savedPending));
        }
        int savedOutputByte = in.u8();
        boolean savedFull = in.bool();
        boolean savedLastWasCommand = in.bool();
        resetControl = savedReset;
        commandByte = savedCommandByte;
        outputPort = savedOutputPort;
        pendingCommand = savedPending;
        outputByte = savedOutputByte;
        outputFull = savedFull;
        lastWasCommand = savedLastWasCommand;
    }

    /** Port 0xCF9 (one byte). */
    public IoHandler resetRegister() {
        return resetRegister;
    }

    /** Port 0x60 (one byte). */
    public IoHandler keyboardData() {
        return dataPort;
    }

    /** Port 0x64 (one byte). */
    public IoHandler keyboardCommand() {
        return commandPort;
    }
}
