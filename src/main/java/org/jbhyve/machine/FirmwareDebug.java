package org.jbhyve.machine;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.bus.IoBus;
import org.jbhyve.sys.Errno;
import org.jbhyve.devices.firmware.DebugPort;

/**
 * jbhyve's {@code firmware.debug=PATH}: the firmware's debug console (port 0x402, where SeaBIOS
 * and OVMF write their logs) goes to PATH, created or truncated. Without the setting the port is
 * absent and firmware logs nothing.
 */
final class FirmwareDebug {
    static final String KEY = "firmware.debug";

    private FirmwareDebug() {}

    static void attach(MachineSpec spec, IoBus ports, Resources resources) {
        String path = spec.tree().get(KEY).orElse(null);
        if (path == null) {
            return;
        }
        try {
            DebugPort port = resources.own(new DebugPort(new BufferedOutputStream(Files.newOutputStream(Path.of(path)))));
            ports.register(DebugPort.FIRMWARE_PORT, 1, "firmware-debug", port);
        } catch (IOException e) {
            throw new MachineException(KEY + " " + path + ": " + Errno.reason(e));
        }
    }
}
