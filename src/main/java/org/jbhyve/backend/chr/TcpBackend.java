package org.jbhyve.backend.chr;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Current bhyve's {@code tcp=ip:port} serial backend: a listening TCP socket (IPv4
 * {@code 127.0.0.1:4321} or IPv6 {@code [::1]:4321}) where one client at a time gets the
 * serial line, e.g. with {@code nc} or {@code telnet}.
 *
 * <p>Threads: an acceptor (a second client is accepted and closed at once), a reader for the
 * connected client (its bytes go to the guest with the usual back-pressure), and a writer that
 * sends guest output to the client. Guest output while nobody is connected is discarded (it is
 * not counted as dropped: there is no one to lose it); output the client does not read fast
 * enough fills the ring and is then dropped and counted. A client that disconnects frees the
 * slot for the next one.
 */
public final class TcpBackend extends BufferedCharBackend {
    private final ServerSocketChannel server;
    private final Object clientLock = new Object();
    private SocketChannel client;

    private TcpBackend(String device, ServerSocketChannel server) {
        super(device);
        this.server = server;
    }

    /** Listens on {@code address} ({@code host:port} or {@code [v6]:port}; port 0 = any free one). */
    public static TcpBackend open(String device, String address) {
        InetSocketAddress where = parse(device, address);
        ServerSocketChannel server;
        try {
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(where, 1);
        } catch (IOException e) {
            throw new CharBackendException(device, "tcp=" + address + ": cannot listen: " + e.getMessage());
        }
        TcpBackend b = new TcpBackend(device, server);
        b.startThread("accept", b::acceptLoop);
        b.startThread("output", b::writeLoop);
        return b;
    }

    static InetSocketAddress parse(String device, String address) {
        String host;
        String port;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
                throw new CharBackendException(device, "tcp=" + address, "expected tcp=[ipv6]:port");
            }
            host = address.substring(1, close);
            port = address.substring(close + 2);
        } else {
            int colon = address.lastIndexOf(':');
            if (colon <= 0 || address.indexOf(':') != colon) {
                throw new CharBackendException(device, "tcp=" + address, "expected tcp=ip:port");
            }
            host = address.substring(0, colon);
            port = address.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 0 || p > 65535) {
            throw new CharBackendException(device, "tcp=" + address, "bad port '" + port + "'");
        }
        if (host.isEmpty()) {
            throw new CharBackendException(device, "tcp=" + address, "missing address before the port");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p);
        } catch (UnknownHostException e) {
            throw new CharBackendException(device, "tcp=" + address, "bad address '" + host + "'", e);
        }
    }

    /** Where the backend listens (the actual port when 0 was asked for). */
    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException(device + ": listener closed", e);
        }
    }

    /** Whether a client is connected now. */
    public boolean hasClient() {
        synchronized (clientLock) {
            return client != null;
        }
    }

    private void acceptLoop() {
        while (!isClosed()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return; // listener closed
            }
            synchronized (clientLock) {
                if (client != null || isClosed()) {
                    closeQuietly(c); // one client at a time
                    continue;
                }
                client = c;
            }
            try {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                // Only latency depends on it.
            }
            startThread("client", () -> readLoop(c));
        }
    }

    private void readLoop(SocketChannel c) {
        ByteBuffer bb = ByteBuffer.allocate(1024);
        try {
            while (!isClosed()) {
                bb.clear();
                int n = c.read(bb);
                if (n < 0) {
                    break;
                }
                if (n > 0 && !deliver(bb.array(), n)) {
                    break;
                }
            }
        } catch (IOException e) {
            // Connection reset or closed under us: treat like a disconnect.
        } finally {
            dropClient(c);
        }
    }

    private void writeLoop() {
        byte[] chunk = new byte[4096];
        while (true) {
            int n = awaitOutput(chunk, 1000);
            if (n < 0) {
                return;
            }
            SocketChannel c;
            synchronized (clientLock) {
                c = client;
            }
            if (c == null || n == 0) {
                continue;
            }
            ByteBuffer bb = ByteBuffer.wrap(chunk, 0, n);
            try {
                while (bb.hasRemaining()) {
                    c.write(bb);
                }
            } catch (IOException e) {
                countDropped(bb.remaining());
                dropClient(c);
            }
        }
    }

    private void dropClient(SocketChannel c) {
        synchronized (clientLock) {
            if (client == c) {
                client = null;
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // Nothing to do about it.
        }
    }

    @Override
    protected void closeHost() {
        try {
            server.close();
        } catch (IOException e) {
            // Closing a listener cannot fail in a way that matters here.
        }
        SocketChannel c;
        synchronized (clientLock) {
            c = client;
            client = null;
        }
        if (c != null) {
            closeQuietly(c);
        }
    }
}
