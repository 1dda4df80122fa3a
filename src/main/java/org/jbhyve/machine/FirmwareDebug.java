package org.jbhyve.machine;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.sys.Errno;
import org.jbhyve.devices.firmware.DebugPort;

/**
 * jbhyve's {@code firmware.debug=PATH}: the firmware's debug console (port 0x402, where SeaBIOS
 * and OVMF write their logs) goes to PATH, created or truncated. Without the setting the port is
 * absent and firmware logs nothing.
 *
 * <p>Port 0x402 is inside bhyve's ACPI PM1 event block (0x400-0x403: PM1_STS, then PM1_EN at
 * 0x402), so the two share it: single-byte accesses at 0x402 are the debug console (firmware
 * writes its log with {@code outb} and probes it with {@code inb}), every other access is PM1 as
 * before (operating systems reach PM1_EN with 16-bit accesses, the width the FADT gives).
 */
final class FirmwareDebug {
    static final String KEY = "firmware.debug";

    private FirmwareDebug() {}

    /**
     * Returns the handler for the PM1 event block: {@code pm1Event} itself without
     * {@code firmware.debug}, else one that also carries the debug console (owned by {@code resources}).
     */
    static IoHandler sharePm1Event(MachineSpec spec, long pm1Base, IoHandler pm1Event, Resources resources) {
        String path = spec.tree().get(KEY).orElse(null);
        if (path == null) {
            return pm1Event;
        }
        DebugPort debug;
        try {
            debug = resources.own(new DebugPort(new BufferedOutputStream(Files.newOutputStream(Path.of(path)))));
        } catch (IOException e) {
            throw new MachineException(KEY + " " + path + ": " + Errno.reason(e));
        }
        long debugOffset = DebugPort.FIRMWARE_PORT - pm1Base;
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                return offset == debugOffset && size == 1 ? debug.read(0, 1) : pm1Event.read(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == debugOffset && size == 1) {
                    debug.write(0, 1, value);
                } else {
                    pm1Event.write(offset, size, value);
                }
            }
        };
    }
}
