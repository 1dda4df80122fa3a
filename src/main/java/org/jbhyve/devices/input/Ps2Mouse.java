package org.jbhyve.devices.input;

import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * A PS/2 mouse behind the 8042's auxiliary port (bhyve's {@code ps2mouse.c}), with the
 * IntelliMouse wheel extension.
 *
 * <pre>
 * FF reset        FA AA 00; defaults: stream mode, reporting off, 100 samples/s, 4 counts/mm
 * FE resend       the last byte     F6 defaults  FA     F5 disable reporting  FA
 * F4 enable reporting  FA           F3 sample rate  FA, rate, FA   F2 identify  FA id
 * F0 remote mode  FA                EB read data  FA + one packet   EA stream mode  FA
 * E9 status       FA, status, resolution, rate   E8 resolution  FA, value, FA
 * E7/E6 scaling 2:1 / 1:1  FA       EC/EE wrap mode off/on  FA (wrap mode is not emulated)
 * anything else   FE
 *
 * packet  byte 0: bit 0 left, 1 right, 2 middle, 3 always 1, 4 X sign, 5 Y sign, 6/7 overflow
 *         byte 1: X movement, byte 2: Y movement (up is positive), two's complement with the
 *         sign bits; id 3 (after sample rates 200, 100, 80) adds byte 3: wheel, positive down
 * status  bit 6 remote mode, 5 reporting on, 4 scaling 2:1, 2 left, 1 middle, 0 right
 * </pre>
 * Viewers send absolute positions; the mouse reports the difference from the previous one,
 * cut into packets of at most 255 counts per axis. Not thread-safe: {@link I8042} locks.
 *
 * <p>Snapshot state (layout 1), in order: the output buffer's bytes (oldest first,
 * length-prefixed); reporting, remote mode and 2:1 scaling (flags); resolution (0-3), sample
 * rate, id (0 or 3), the command waiting for its argument (0, E8 or F3), the last byte sent and
 * the last three sample rates set (one byte each); the buttons held (bits 2:0); the motion not
 * yet reported (dx, dy, dz) and the viewer's last pointer position (x, y), i32 each.
 */
final class Ps2Mouse implements Snapshottable {
    static final int ACK = 0xFA, RESEND = 0xFE, BAT_OK = 0xAA;
    static final int CMD_SCALING_1 = 0xE6, CMD_SCALING_2 = 0xE7, CMD_RESOLUTION = 0xE8, CMD_STATUS = 0xE9;
    static final int CMD_STREAM = 0xEA, CMD_READ_DATA = 0xEB, CMD_WRAP_OFF = 0xEC, CMD_WRAP_ON = 0xEE;
    static final int CMD_REMOTE = 0xF0, CMD_IDENTIFY = 0xF2, CMD_SAMPLE_RATE = 0xF3, CMD_ENABLE = 0xF4;
    static final int CMD_DISABLE = 0xF5, CMD_DEFAULTS = 0xF6, CMD_RESEND = 0xFE, CMD_RESET = 0xFF;
    static final int BUFFER = 64;

    private final ByteQueue queue = new ByteQueue(BUFFER);
    private boolean reporting, remote, scaling21;
    private int resolution = 2, sampleRate = 100, id;
    private int pendingCommand;
    private int lastSent = ACK;
    private final int[] lastRates = new int[3];
    private int buttons;
    private int dx, dy, dz;
    private int lastX = -1, lastY = -1;

    void write(int value) {
        value &= 0xFF;
        if (pendingCommand != 0) {
            int command = pendingCommand;
            pendingCommand = 0;
            if (command == CMD_SAMPLE_RATE) {
                sampleRate = value;
                lastRates[0] = lastRates[1];
                lastRates[1] = lastRates[2];
                lastRates[2] = value;
                if (lastRates[0] == 200 && lastRates[1] == 100 && lastRates[2] == 80) {
                    id = 3; // the IntelliMouse knock
                }
            } else {
                resolution = value & 0x03;
            }
            reply(ACK);
            return;
        }
        switch (value) {
            case CMD_RESET -> {
                defaults();
                id = 0;
                queue.clear();
                reply(ACK);
                reply(BAT_OK);
                reply(id);
            }
            case CMD_RESEND -> reply(lastSent);
            case CMD_DEFAULTS -> {
                defaults();
                reply(ACK);
            }
            case CMD_DISABLE -> {
                reporting = false;
                queue.clear();
                reply(ACK);
            }
            case CMD_ENABLE -> {
                reporting = true;
                queue.clear();
                dx = dy = dz = 0;
                reply(ACK);
            }
            case CMD_SAMPLE_RATE, CMD_RESOLUTION -> {
                pendingCommand = value;
                reply(ACK);
            }
            case CMD_IDENTIFY -> {
                reply(ACK);
                reply(id);
            }
            case CMD_REMOTE -> {
                remote = true;
                reply(ACK);
            }
            case CMD_STREAM -> {
                remote = false;
                reply(ACK);
            }
            case CMD_READ_DATA -> {
                reply(ACK);
                packets(true);
            }
            case CMD_STATUS -> {
                reply(ACK);
                int left = buttons & 1, middle = (buttons >> 1) & 1, right = (buttons >> 2) & 1;
                reply((remote ? 0x40 : 0) | (reporting ? 0x20 : 0) | (scaling21 ? 0x10 : 0) | left << 2 | middle << 1
                        | right);
                reply(resolution);
                reply(sampleRate);
            }
            case CMD_SCALING_1, CMD_SCALING_2 -> {
                scaling21 = value == CMD_SCALING_2;
                reply(ACK);
            }
            case CMD_WRAP_ON, CMD_WRAP_OFF -> reply(ACK);
            default -> reply(RESEND);
        }
    }

    private void defaults() {
        reporting = false;
        remote = false;
        scaling21 = false;
        resolution = 2;
        sampleRate = 100;
        pendingCommand = 0;
        dx = dy = dz = 0;
    }

    private void reply(int b) {
        queue.put(b);
    }

    /**
     * The viewer's pointer is at (x, y) with {@code mask} buttons down (RFB: bit 0 left, 1
     * middle, 2 right, 3 wheel up, 4 wheel down). Returns whether bytes were queued.
     */
    boolean pointer(int mask, int x, int y) {
        if (lastX >= 0) {
            dx += x - lastX;
            dy += lastY - y;
        }
        lastX = x;
        lastY = y;
        if ((mask & 0x08) != 0) {
            dz--;
        }
        if ((mask & 0x10) != 0) {
            dz++;
        }
        buttons = mask & 0x07;
        if (!reporting || remote) {
            return false;
        }
        return packets(false);
    }

    /** Queues packets for the accumulated motion (one at least when {@code always}). */
    private boolean packets(boolean always) {
        int size = id == 3 ? 4 : 3;
        boolean any = false;
        while ((always || dx != 0 || dy != 0 || dz != 0 || !any) && queue.free() >= size) {
            int px = Math.clamp(dx, -255, 255), py = Math.clamp(dy, -255, 255), pz = Math.clamp(dz, -8, 7);
            dx -= px;
            dy -= py;
            dz -= pz;
            int left = buttons & 1, middle = (buttons >> 1) & 1, right = (buttons >> 2) & 1;
            queue.put(left | right << 1 | middle << 2 | 0x08 | (px < 0 ? 0x10 : 0) | (py < 0 ? 0x20 : 0));
            queue.put(px & 0xFF);
            queue.put(py & 0xFF);
            if (size == 4) {
                queue.put(pz & 0xFF);
            }
            any = true;
            always = false;
        }
        return any;
    }

    boolean hasData() {
        return !queue.isEmpty();
    }

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
        out.bool(reporting).bool(remote).bool(scaling21);
        out.u8(resolution).u8(sampleRate).u8(id).u8(pendingCommand).u8(lastSent);
        for (int rate : lastRates) {
            out.u8(rate);
        }
        out.u8(buttons);
        out.i32(dx).i32(dy).i32(dz).i32(lastX).i32(lastY);
    }

    @Override
    public void restoreState(StateReader in, int version) {
        queue.restore(in, "the mouse buffer");
        boolean savedReporting = in.bool();
        boolean savedRemote = in.bool();
        boolean savedScaling = in.bool();
        int savedResolution = in.u8();
        int savedRate = in.u8();
        int savedId = in.u8();
        int savedPending = in.u8();
        int savedLastSent = in.u8();
        int[] savedRates = {in.u8(), in.u8(), in.u8()};
        int savedButtons = in.u8();
        int savedDx = in.i32(), savedDy = in.i32(), savedDz = in.i32();
        int savedX = in.i32(), savedY = in.i32();
        if (savedResolution > 3 || savedButtons > 7 || (savedId != 0 && savedId != 3)) {
            throw in.invalid("mouse resolution " + savedResolution + ", buttons " + savedButtons + ", id " + savedId);
        }
        if (savedPending != 0 && savedPending != CMD_SAMPLE_RATE && savedPending != CMD_RESOLUTION) {
            throw in.invalid("mouse command 0x" + Integer.toHexString(savedPending) + " waiting for an argument");
        }
        reporting = savedReporting;
        remote = savedRemote;
        scaling21 = savedScaling;
        resolution = savedResolution;
        sampleRate = savedRate;
        id = savedId;
        pendingCommand = savedPending;
        lastSent = savedLastSent;
        System.arraycopy(savedRates, 0, lastRates, 0, lastRates.length);
        buttons = savedButtons;
        dx = savedDx;
        dy = savedDy;
        dz = savedDz;
        lastX = savedX;
        lastY = savedY;
    }

    int id() {
        return id;
    }

    boolean reporting() {
        return reporting;
    }
}
