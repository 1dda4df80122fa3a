package org.jbhyve.gdb;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicReference;
import org.jbhyve.log.LazyLogger;

/**
 * bhyve's {@code -G [w][addr:]port}: a TCP listener for gdb's remote protocol, one client at
 * a time (a second connection is closed at once, as bhyve does). When a client connects every
 * vCPU is stopped (with {@code w} they have been held since before their first instruction),
 * and a {@link GdbSession} serves it; when it goes, the guest runs on without breakpoints and
 * the next client may connect.
 *
 * <p>Life: {@link #listen} binds (so a port in use is an error at start-up), {@link #start}
 * accepts on a daemon thread once the target exists, {@link #vmEnded} tells a waiting gdb the
 * exit status, {@link #close} stops accepting and waits for the session to finish, so nothing
 * touches guest memory after the VM releases it.
 */
public final class GdbServer implements AutoCloseable {
    private static final LazyLogger LOG = new LazyLogger(GdbServer.class);
    private static final long CLOSE_WAIT_MILLIS = 3000;

    private final ServerSocket socket;
    private final AtomicReference<Socket> client = new AtomicReference<>();
    private volatile GdbSession session;
    private volatile boolean ended;
    private volatile int endStatus;
    private volatile boolean closed;
    private Thread acceptor;
    private Thread server;

    private GdbServer(ServerSocket socket) {
        this.socket = socket;
    }

    /**
     * Binds {@code address} (null: 127.0.0.1) and {@code port} (0: any free port).
     *
     * @throws IOException when the address cannot be resolved or bound
     */
    public static GdbServer listen(String address, int port) throws IOException {
        InetAddress host = address == null ? InetAddress.getLoopbackAddress() : InetAddress.getByName(address);
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(host, port), 1);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new GdbServer(s);
    }

    /** The bound address (its port, when 0 was asked for). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Starts accepting clients for {@code target}. */
    public synchronized void start(DebugTarget target) {
        acceptor = Thread.ofPlatform().name("gdb").daemon(true).start(() -> acceptLoop(target));
    }

    /** The VM has ended with exit status {@code status}: a gdb waiting for a stop learns it. */
    public void vmEnded(int status) {
        endStatus = status;
        ended = true;
        GdbSession s = session;
        if (s != null) {
            s.ended(status);
        }
    }

    private void acceptLoop(DebugTarget target) {
        while (!closed) {
            Socket s;
            try {
                s = socket.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (ended || !client.compareAndSet(null, s)) {
                LOG.get().warning("gdb: ignoring an additional connection from " + s.getRemoteSocketAddress());
                closeQuietly(s);
                continue;
            }
            Thread t = Thread.ofPlatform().name("gdb session").daemon(true).start(() -> serve(target, s));
            synchronized (this) {
                server = t;
            }
        }
    }

    private void serve(DebugTarget target, Socket s) {
        try {
            s.setTcpNoDelay(true);
            try {
                target.stopAll();
            } catch (DebugTarget.TargetException e) {
                resumeAll(target); // a vCPU that would not stop: let the others go again
                throw e;
            }
            GdbSession gs = new GdbSession(target, s.getInputStream(), s.getOutputStream());
            session = gs;
            if (ended) {
                gs.ended(endStatus);
            }
            gs.run();
        } catch (IOException | DebugTarget.TargetException e) {
            // the client went away, or the VM is ending
        } catch (RuntimeException e) {
            LOG.get().log(java.util.logging.Level.WARNING, "gdb: session failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            session = null;
            closeQuietly(s);
            client.set(null);
        }
    }

    private static void resumeAll(DebugTarget target) {
        java.util.Map<Integer, Boolean> all = new java.util.TreeMap<>();
        for (int v = 0; v < target.vcpuCount(); v++) {
            all.put(v, false);
        }
        try {
            target.resume(GuestDebug.OFF, all);
        } catch (DebugTarget.TargetException e) {
            // the VM is ending
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(socket);
        Socket c = client.get();
        if (c != null) {
            closeQuietly(c);
        }
        Thread a;
        Thread t;
        synchronized (this) {
            a = acceptor;
            t = server;
        }
        try {
            if (t != null) {
                t.join(CLOSE_WAIT_MILLIS);
            }
            if (a != null) {
                a.join(CLOSE_WAIT_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
