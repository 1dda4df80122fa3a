package org.jbhyve.backend.display;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * bhyve's RFB (VNC) server for its framebuffer: a TCP listener and one session per viewer.
 *
 * <p>Unlike bhyve, which serves one viewer at a time, several viewers may watch at once (up to
 * {@link #MAX_CLIENTS}); each has a reader thread (handshake, then client messages) and a
 * writer thread (framebuffer updates), so a viewer that stops reading stalls only its own
 * writer, never the guest or the other viewers. The guest never waits for the server: the
 * framebuffer is plain memory the writers copy from.
 *
 * <p>Addresses are numeric, as bhyve's getaddrinfo(AI_NUMERICHOST): IPv4, or IPv6 with an
 * optional {@code %zone}; none means 127.0.0.1.
 */
public final class RfbServer implements AutoCloseable {
    public static final int MAX_CLIENTS = 16;
    public static final String DEFAULT_HOST = "127.0.0.1";

    /**
     * What to listen on and how to greet: {@code host} null for 127.0.0.1, {@code port} 0 for
     * any free port, {@code password} null for no authentication, {@code desktopName} the name
     * ServerInit announces.
     */
    public record Config(String host, int port, String password, String desktopName) {
        @Override
        public String toString() {
            return "Config[host=" + host + ", port=" + port + ", password=" + (password == null ? "none" : "(set)")
                    + ", desktopName=" + desktopName + "]";
        }
    }

    private final ServerSocket listener;
    private final FrameSource frame;
    private final InputSink input;
    private final VncAuth auth;
    private final String desktopName;
    private final Thread acceptor;
    private final Set<RfbSession> sessions = new HashSet<>();
    private final CountDownLatch firstClient = new CountDownLatch(1);
    private final AtomicInteger serial = new AtomicInteger();
    private volatile boolean closed;

    private RfbServer(ServerSocket listener, Config config, FrameSource frame, InputSink input) {
        this.listener = listener;
        this.frame = frame;
        this.input = input;
        this.auth = config.password() == null ? null : new VncAuth(config.password());
        this.desktopName = config.desktopName() == null ? "bhyve" : config.desktopName();
        this.acceptor = Thread.ofPlatform().name("rfb-listener").daemon(true).unstarted(this::acceptLoop);
    }

    /**
     * Binds and starts listening. Throws IOException with a one-line reason when the address is
     * not numeric or cannot be bound (in use, not local).
     */
    public static RfbServer start(Config config, FrameSource frame, InputSink input) throws IOException {
        InetAddress address = parseHost(config.host() == null || config.host().isEmpty() ? DEFAULT_HOST : config.host());
        if (config.port() < 0 || config.port() > 0xFFFF) {
            throw new IOException("invalid port " + config.port());
        }
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(address, config.port()), MAX_CLIENTS);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot listen on " + hostPort(address, config.port()) + ": " + e.getMessage(), e);
        }
        RfbServer server = new RfbServer(s, config, frame, input);
        server.acceptor.start();
        return server;
    }

    /** A numeric IPv4 or IPv6 (optionally {@code %zone}) address; names are refused, as bhyve does. */
    static InetAddress parseHost(String host) throws IOException {
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            throw new IOException("not a numeric IPv4 or IPv6 address: \"" + host + "\"");
        }
    }

    private static String hostPort(InetAddress a, int port) {
        String h = a.getHostAddress();
        return (a instanceof Inet6Address ? "[" + h + "]" : h) + ":" + port;
    }

    /** The bound address (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /**
     * Blocks until a viewer has completed the handshake (bhyve's {@code wait}: the guest starts
     * only once someone watches), or the server is closed.
     */
    public void awaitFirstClient() throws InterruptedException {
        firstClient.await();
    }

    /** Viewers currently connected (handshake done or under way). */
    public synchronized int clients() {
        return sessions.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log("accept failed: " + e.getMessage());
                }
                return;
            }
            RfbSession session;
            boolean full;
            synchronized (this) {
                full = sessions.size() >= MAX_CLIENTS || closed;
                session = new RfbSession(this, s, frame, input, auth, desktopName, full);
                if (!full) {
                    sessions.add(session);
                }
            }
            int n = serial.incrementAndGet();
            Thread.ofPlatform().name("rfb-client-" + n).daemon(true).start(session);
        }
    }

    /** Called by a session whose viewer finished the handshake. */
    void ready(RfbSession session) {
        firstClient.countDown();
    }

    /** Called by a session when its connection is gone. */
    synchronized void ended(RfbSession session) {
        sessions.remove(session);
    }

    private static final int LOG_BURST = 20;
    private static final long LOG_WINDOW_NANOS = 60_000_000_000L;
    private static long logWindowStart = System.nanoTime();
    private static int logged;

    /** One line on stderr, at most {@link #LOG_BURST} a minute: viewers cannot flood the log. */
    static synchronized void log(String message) {
        long now = System.nanoTime();
        if (now - logWindowStart > LOG_WINDOW_NANOS) {
            logWindowStart = now;
            logged = 0;
        }
        if (logged++ < LOG_BURST) {
            System.err.println("jbhyve: rfb: " + message);
        }
    }

    /** Stops listening, disconnects every viewer and releases a waiting {@link #awaitFirstClient}. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // going away anyway
        }
        List<RfbSession> all;
        synchronized (this) {
            all = new ArrayList<>(sessions);
            sessions.clear();
        }
        all.forEach(RfbSession::close);
        firstClient.countDown();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
