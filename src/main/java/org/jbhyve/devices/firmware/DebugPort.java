package org.jbhyve.devices.firmware;

import java.io.IOException;
import java.io.OutputStream;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * Bochs/QEMU's debug console port (0x402 for SeaBIOS and OVMF builds, 0xE9 in Bochs): every byte
 * the firmware writes is its debug log. A read returns 0xE9, which is how SeaBIOS and OVMF tell
 * the port is there before they write to it; without this device the read returns 0xFF and they
 * stay silent. jbhyve attaches it only when asked ({@code firmware.debug=PATH}).
 *
 * <p>Snapshot state (layout 1) is empty: the port has no register, and the log file (and whether
 * writing it failed) is a host resource reopened from the command line.
 */
public final class DebugPort implements IoHandler, AutoCloseable, Snapshottable {
    public static final int FIRMWARE_PORT = 0x402;
    static final int PRESENT = 0xE9;

    private final OutputStream log;
    private boolean failed;

    public DebugPort(OutputStream log) {
        this.log = log;
    }

    @Override
    public long read(long offset, int size) {
        return PRESENT;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (failed) {
            return;
        }
        try {
            for (int i = 0; i < size; i++) {
                log.write((int) (value >>> (8 * i)) & 0xFF);
            }
            if ((value & 0xFF) == '\n') {
                log.flush();
            }
        } catch (IOException e) {
            failed = true; // A full disk must not stop the guest: the log just ends.
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        // nothing guest-visible
    }

    @Override
    public void restoreState(StateReader in, int version) {
        // nothing guest-visible
    }

    @Override
    public synchronized void close() {
        try {
            log.close();
        } catch (IOException e) {
            // nothing left to report to
        }
    }
}
