package org.jbhyve.backend.net;

/**
 * A network backend value that cannot be used: a missing or busy tap, a FreeBSD-only backend,
 * a bad {@code mac=} or {@code mtu=}. The message is one line naming the device and what to do,
 * e.g. {@code e1000: tap0: no such tap interface: create it with 'ip tuntap add tap0 mode tap'}.
 */
public final class NetBackendException extends IllegalArgumentException {
    public NetBackendException(String message) {
        super(message);
    }

    public NetBackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
