package org.jbhyve.control;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.UnixStreamSocket;

/**
 * Answers bhyvectl on the VM's control socket: one platform thread accepts (the control thread,
 * off the vCPUs' fast path), each connection is served on a platform thread of its own, one
 * request line after another, until the client closes it (a virtual thread would hold its
 * carrier while it waits in read(2), a plain system call). At most {@link #MAX_CLIENTS} connections are served
 * at once; more are answered with one EBUSY error and closed. Only the owner can connect at all
 * (the socket is 0600 in a 0700 directory).
 */
public final class ControlServer implements AutoCloseable {
    static final int MAX_CLIENTS = 8;

    private final UnixStreamSocket channel;
    private final MachineControl vm;
    private RequestHandler handler; // made for the first client (see handler())
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    private final Set<UnixStreamSocket> clients = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean destroyRequested = new AtomicBoolean();
    private volatile boolean closed;
    private Thread acceptor;

    ControlServer(UnixStreamSocket channel, MachineControl vm) {
        this.channel = channel;
        this.vm = vm;
    }

    /**
     * The request handler, made when the first client connects: it is where Jackson comes in,
     * and a VM nobody asks anything never loads it (see {@link JsonText}).
     */
    private synchronized RequestHandler handler() {
        if (handler == null) {
            handler = new RequestHandler(vm, ProcessHandle.current().pid(), () -> destroyRequested.set(true));
        }
        return handler;
    }

    synchronized void start() {
        acceptor = Thread.ofPlatform().name("control").daemon(true).start(this::acceptLoop);
    }

    /** True once a client sent {@code destroy}. */
    public boolean destroyRequested() {
        return destroyRequested.get();
    }

    private void acceptLoop() {
        while (!closed) {
            UnixStreamSocket client;
            try {
                client = channel.accept();
            } catch (SysException | IllegalStateException e) {
                if (closed) {
                    return; // shut down by close()
                }
                continue; // a client that vanished between connect and accept
            }
            if (!slots.tryAcquire()) {
                refuse(client);
                continue;
            }
            clients.add(client);
            if (closed) {
                client.shutdown(); // close() may have passed the set already
            }
            Thread.ofPlatform().name("control client").daemon(true).start(() -> {
                try {
                    serve(client);
                } finally {
                    clients.remove(client);
                    slots.release();
                }
            });
        }
    }

    private void serve(UnixStreamSocket client) {
        try (LineChannel lines = new LineChannel(client)) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                lines.writeLine(handler().answer(line));
            }
        } catch (IOException e) {
            // the client went away or sent an oversized line: its connection ends, the VM goes on
        }
    }

    private static void refuse(UnixStreamSocket client) {
        try (LineChannel lines = new LineChannel(client)) {
            lines.writeLine(RequestHandler.errorLine(VmRequestException.EBUSY,
                    "too many control connections (at most " + MAX_CLIENTS + ")"));
        } catch (IOException e) {
            // it went away
        }
    }

    /**
     * Stops accepting and ends every open connection: shutting the sockets down wakes the
     * threads blocked on them; each client's thread closes its own socket.
     */
    @Override
    public void close() {
        closed = true;
        channel.shutdown();
        for (UnixStreamSocket c : clients) {
            c.shutdown();
        }
        Thread t;
        synchronized (this) {
            t = acceptor;
        }
        if (t != null) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        channel.close(); // after the acceptor has left accept(2) (or given up waiting for it)
    }
}
