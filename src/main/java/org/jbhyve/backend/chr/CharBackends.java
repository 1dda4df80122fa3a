package org.jbhyve.backend.chr;

import java.io.PrintStream;

/**
 * Builds a backend from a bhyve serial value ({@code -l com1,VALUE}, {@code -s N,uart,VALUE},
 * config key {@code lpc.com1.path}):
 *
 * <pre>
 * stdio              standard input/output (one device per process)
 * tcp=ip:port        listen for one TCP client ([ipv6]:port for IPv6)
 * /dev/nmdm0A        FreeBSD null-modem name: a new pseudo-terminal pair, peer path printed;
 *                    as root also /dev/nmdm0B linked to the peer (any /dev/nmdmXA or XB name)
 * pty                the same, without pretending to be nmdm
 * /dev/ttyS1 ...     an existing host terminal, opened O_RDWR|O_NOCTTY, raw mode
 * </pre>
 *
 * Anything else fails with a {@link CharBackendException} naming the device and the value.
 */
public final class CharBackends {
    private CharBackends() {}

    /** Opens the backend for {@code value}; pty peer paths are announced on standard error. */
    public static CharBackend open(String value, String deviceName) {
        return open(value, deviceName, System.err);
    }

    public static CharBackend open(String value, String deviceName, PrintStream announce) {
        if (value == null || value.isBlank()) {
            throw new CharBackendException(deviceName, String.valueOf(value), "empty serial backend");
        }
        if (value.equals("stdio")) {
            return StdioBackend.open(deviceName);
        }
        if (value.startsWith("tcp=")) {
            return TcpBackend.open(deviceName, value.substring("tcp=".length()));
        }
        if (value.equals("pty")) {
            return PtyBackend.open(deviceName, announce);
        }
        if (value.startsWith("/dev/nmdm")) {
            return PtyBackend.open(deviceName, NmdmLink.userSide(value).orElse(null), announce);
        }
        if (value.startsWith("/")) {
            return TtyBackend.open(deviceName, value);
        }
        throw new CharBackendException(deviceName, value,
                "unknown serial backend: use stdio, tcp=ip:port, /dev/nmdmNA, pty or a tty path");
    }
}
