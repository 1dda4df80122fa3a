package org.jbhyve.devices.virtio.console;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One virtio-console port backed by a Unix socket the VMM creates at {@code path}: one client
 * at a time (a second is refused by closing it), bytes from the client go to the guest, bytes
 * from the guest go to the client. While no client is connected, guest output is buffered up to
 * {@link #BUFFER_LIMIT} bytes; beyond that it is dropped and counted. The socket file is
 * removed at close (bhyve leaves it behind).
 *
 * <p>Threads: an acceptor/reader thread per port; guest output comes from the device's queue
 * handler. State is guarded by this object.
 */
final class ConsolePort implements AutoCloseable {
    static final int BUFFER_LIMIT = 64 * 1024;

    interface Listener {
        void connected(ConsolePort port, boolean open);

        void received(ConsolePort port, byte[] data, int length);
    }

    final int id;
    final String name;
    final Path path;
    private final ServerSocketChannel server;
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private final AtomicLong dropped = new AtomicLong();
    private final Thread thread;
    private int pendingBytes;
    private SocketChannel client;
    private Listener listener;
    private volatile boolean closing;

    ConsolePort(int id, String name, Path path) {
        this.id = id;
        this.name = name;
        this.path = path;
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (!isStaleSocket(path)) {
                throw new IllegalArgumentException("virtio-console port " + name + ": " + path
                        + " exists and is not a stale socket");
            }
            try {
                Files.delete(path);
            } catch (IOException e) {
                throw new IllegalArgumentException("virtio-console port " + name + ": cannot remove stale " + path);
            }
        }
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            throw new IllegalArgumentException("virtio-console port " + name + ": cannot create socket " + path
                    + ": " + e.getMessage());
        }
        thread = Thread.ofPlatform().name("vtcon-" + name).daemon(true).unstarted(this::serve);
    }

    /** A socket file nobody listens on any more (connecting is refused). */
    private static boolean isStaleSocket(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if ((mode & 0170000) != 0140000) {
                return false;
            }
        } catch (IOException | ClassCastException | UnsupportedOperationException e) {
            return false;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return false; // someone is listening: not ours to take
        } catch (IOException e) {
            return true;
        }
    }

    void start(Listener listener) {
        synchronized (this) {
            this.listener = listener;
        }
        thread.start();
    }

    synchronized boolean isConnected() {
        return client != null;
    }

    long dropped() {
        return dropped.get();
    }

    private void serve() {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (!closing) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            synchronized (this) {
                client = c;
                while (!pending.isEmpty()) {
                    writeQuietly(c, pending.poll());
                }
                pendingBytes = 0;
            }
            listener.connected(this, true);
            try {
                while (!closing) {
                    buf.clear();
                    int n = c.read(buf);
                    if (n < 0) {
                        break;
                    }
                    listener.received(this, buf.array(), n);
                }
            } catch (IOException e) {
                // client went away
            }
            synchronized (this) {
                client = null;
            }
            try {
                c.close();
            } catch (IOException e) {
                // already gone
            }
            listener.connected(this, false);
        }
    }

    /** Guest output: to the client, or buffered (bounded) while there is none. */
    synchronized void send(byte[] data) {
        if (client != null) {
            if (!writeQuietly(client, data)) {
                dropped.addAndGet(data.length);
            }
            return;
        }
        if (pendingBytes + data.length > BUFFER_LIMIT) {
            dropped.addAndGet(data.length);
            return;
        }
        pending.add(data);
        pendingBytes += data.length;
    }

    private static boolean writeQuietly(SocketChannel c, byte[] data) {
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            for (int spins = 0; b.hasRemaining() && spins < 1000; spins++) {
                c.write(b);
            }
            return !b.hasRemaining();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        synchronized (this) {
            if (client != null) {
                try {
                    client.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // best effort
        }
    }
}
