package org.jbhyve.devices.virtio.console;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioDevice;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * virtio-console (P6) with MULTIPORT: up to 16 ports, each a Unix socket ({@link ConsolePort}).
 *
 * <pre>
 * queues: 0 port 0 receive (to guest), 1 port 0 transmit, 2 control receive, 3 control transmit,
 *         then 4 + 2(n-1) / 5 + 2(n-1) for port n.
 * config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr
 * control message: le32 port id, le16 event, le16 value (+ name bytes for PORT_NAME)
 *   driver -> device: DEVICE_READY(0), PORT_READY(3), PORT_OPEN(6)
 *   device -> driver: DEVICE_ADD(1) per port, CONSOLE_PORT(4) for a port named "console",
 *                     PORT_NAME(7), PORT_OPEN(6) = 1 while a client is connected
 * </pre>
 * Host input waits (bounded, per port) for guest receive buffers; guest output goes to the
 * port's client or its bounded buffer. All queue work is serialised on this object.
 *
 * <p>Snapshots ({@link #saveState}): whether the driver said DEVICE_READY, the control messages
 * not yet delivered, and per port whether the driver was told it is open and the host input it
 * has not taken yet. The sockets are created anew and have no client after a restore, so a port
 * the driver believed open is announced closed. While quiesced, socket input stays in the
 * socket and a client's arrival is queued, not delivered.
 */
public final class VirtioConsole implements VirtioDevice, ConsolePort.Listener, Snapshottable {
    public static final int MAX_PORTS = 16;
    public static final int F_MULTIPORT = 1;
    static final int DEVICE_READY = 0, DEVICE_ADD = 1, PORT_READY = 3, CONSOLE_PORT = 4, PORT_OPEN = 6, PORT_NAME = 7;
    private static final int CONTROL_RX = 2, CONTROL_TX = 3;
    private static final int MAX_CONTROL_PENDING = 256;
    private static final int INPUT_LIMIT = 64 * 1024;
    private static final int MAX_CONTROL_MESSAGE = 8 + 4096;

    /** One configured port: its name and socket path. */
    public record PortSpec(String name, Path path) {}

    private final List<ConsolePort> ports = new ArrayList<>();
    private final ArrayDeque<byte[]> control = new ArrayDeque<>();
    private final List<ArrayDeque<byte[]>> input = new ArrayList<>();
    private final int[] inputBytes = new int[MAX_PORTS];
    /** Per port: whether the last PORT_OPEN queued for the driver said open. */
    private final boolean[] announcedOpen = new boolean[MAX_PORTS];
    private VirtioTransport transport;
    private boolean deviceReady;
    private boolean paused;

    public VirtioConsole(List<PortSpec> specs) {
        if (specs.size() > MAX_PORTS) {
            throw new IllegalArgumentException("virtio-console: at most " + MAX_PORTS + " ports");
        }
        try {
            for (int i = 0; i < specs.size(); i++) {
                ports.add(new ConsolePort(i, specs.get(i).name(), specs.get(i).path()));
                input.add(new ArrayDeque<>());
            }
        } catch (RuntimeException e) {
            ports.forEach(ConsolePort::close);
            throw e;
        }
        ports.forEach(p -> p.start(this));
    }

    @Override
    public int deviceType() {
        return 3;
    }

    @Override
    public int legacyPciDeviceId() {
        return 0x1003;
    }

    @Override
    public int pciClass() {
        return 0x070000; // bhyve: PCIC_SIMPLECOMM
    }

    @Override
    public long features() {
        return 1L << F_MULTIPORT;
    }

    @Override
    public int queueCount() {
        return 2 * (MAX_PORTS + 1);
    }

    @Override
    public int queueMaxSize() {
        return 64;
    }

    @Override
    public int configSize() {
        return 12;
    }

    @Override
    public long readConfig(int offset, int size) {
        byte[] c = {80, 0, 25, 0, MAX_PORTS, 0, 0, 0, 0, 0, 0, 0};
        long v = 0;
        for (int i = 0; i < size && i < 8; i++) {
            v |= (offset + i >= 0 && offset + i < c.length ? c[offset + i] & 0xFFL : 0) << (8 * i);
        }
        return v;
    }

    @Override
    public synchronized void activate(VirtioTransport transport) {
        this.transport = transport;
    }

    @Override
    public synchronized void reset() {
        transport = null;
        deviceReady = false;
        control.clear();
        java.util.Arrays.fill(announcedOpen, false);
        notifyAll();
    }

    static int rxQueue(int port) {
        return port == 0 ? 0 : 4 + 2 * (port - 1);
    }

    @Override
    public synchronized void queueNotified(int queue) {
        VirtioTransport t = transport;
        if (t == null || paused) {
            return;
        }
        Virtqueue q = t.queue(queue);
        try {
            if (queue == CONTROL_TX) {
                drainControl(t, q);
            } else if (queue == CONTROL_RX) {
                flushControl(t);
            } else if (queue % 2 == 1) {
                int port = queue == 1 ? 0 : (queue - 5) / 2 + 1;
                transmit(t, q, port < ports.size() ? ports.get(port) : null);
            } else {
                int port = queue == 0 ? 0 : (queue - 4) / 2 + 1;
                if (port < ports.size()) {
                    deliverInput(t, port);
                }
            }
        } catch (VirtqueueException e) {
            t.queueBroken(q, e);
        }
    }

    private void transmit(VirtioTransport t, Virtqueue q, ConsolePort port) {
        for (int budget = q.size(); budget > 0; budget--) {
            DescriptorChain c = q.pop();
            if (c == null) {
                break;
            }
            byte[] data = gather(c, 65536);
            if (port != null) {
                port.send(data);
            }
            q.addUsed(c.head(), 0);
        }
        t.notifyUsed(q);
    }

    private void drainControl(VirtioTransport t, Virtqueue q) {
        for (int budget = q.size(); budget > 0; budget--) {
            DescriptorChain c = q.pop();
            if (c == null) {
                break;
            }
            byte[] m = gather(c, 8);
            q.addUsed(c.head(), 0);
            if (m.length == 8) {
                MemorySegment s = MemorySegment.ofArray(m);
                handleControl(s.get(ValueLayout.JAVA_INT_UNALIGNED, 0),
                        Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4)),
                        Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 6)));
            }
        }
        t.notifyUsed(q);
        flushControl(t);
    }

    private void handleControl(int id, int event, int value) {
        switch (event) {
            case DEVICE_READY -> {
                deviceReady = value == 1;
                if (deviceReady) {
                    for (ConsolePort p : ports) {
                        queueControl(p.id, DEVICE_ADD, 0, null);
                    }
                }
            }
            case PORT_READY -> {
                if (value == 1 && id >= 0 && id < ports.size()) {
                    ConsolePort p = ports.get(id);
                    if (p.name.equals("console")) {
                        queueControl(id, CONSOLE_PORT, 1, null);
                    }
                    queueControl(id, PORT_NAME, 1, p.name.getBytes(StandardCharsets.UTF_8));
                    if (p.isConnected()) {
                        queueControl(id, PORT_OPEN, 1, null);
                        announcedOpen[id] = true;
                    }
                }
            }
            default -> { } // PORT_OPEN from the guest: nothing to do, output is buffered anyway
        }
    }

    private void queueControl(int id, int event, int value, byte[] extra) {
        if (control.size() >= MAX_CONTROL_PENDING) {
            return;
        }
        byte[] m = new byte[8 + (extra == null ? 0 : extra.length)];
        MemorySegment s = MemorySegment.ofArray(m);
        s.set(ValueLayout.JAVA_INT_UNALIGNED, 0, id);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4, (short) event);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 6, (short) value);
        if (extra != null) {
            System.arraycopy(extra, 0, m, 8, extra.length);
        }
        control.add(m);
    }

    private void flushControl(VirtioTransport t) {
        Virtqueue q = t.queue(CONTROL_RX);
        while (!control.isEmpty()) {
            DescriptorChain c = q.pop();
            if (c == null) {
                break;
            }
            q.addUsed(c.head(), scatter(c, control.poll()));
        }
        t.notifyUsed(q);
    }

    private void deliverInput(VirtioTransport t, int port) {
        Virtqueue q = t.queue(rxQueue(port));
        ArrayDeque<byte[]> pending = input.get(port);
        while (!pending.isEmpty()) {
            DescriptorChain c = q.pop();
            if (c == null) {
                break;
            }
            byte[] data = pending.poll();
            int n = scatter(c, data);
            inputBytes[port] -= data.length;
            if (n < data.length) {
                pending.addFirst(java.util.Arrays.copyOfRange(data, n, data.length));
                inputBytes[port] += data.length - n;
            }
            q.addUsed(c.head(), n);
        }
        t.notifyUsed(q);
        notifyAll();
    }

    @Override
    public synchronized void connected(ConsolePort port, boolean open) {
        if (transport != null && deviceReady) {
            queueControl(port.id, PORT_OPEN, open ? 1 : 0, null);
            announcedOpen[port.id] = open;
            if (!paused) {
                flushControl(transport);
            }
        }
    }

    @Override
    public synchronized void received(ConsolePort port, byte[] data, int length) {
        // Backpressure: the socket reader waits (bounded) until the guest takes the input; and
        // while quiesced, until the device resumes (the input stays in this thread's hands).
        while ((inputBytes[port.id] + length > INPUT_LIMIT || paused) && transport != null) {
            try {
                wait(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (transport == null) {
            return; // no driver: input is dropped
        }
        input.get(port.id).add(java.util.Arrays.copyOf(data, length));
        inputBytes[port.id] += length;
        try {
            deliverInput(transport, port.id);
        } catch (VirtqueueException e) {
            transport.queueBroken(transport.queue(rxQueue(port.id)), e);
        }
    }

    private static byte[] gather(DescriptorChain c, int limit) {
        int total = (int) Math.min(c.readableBytes(), limit);
        byte[] out = new byte[total];
        int at = 0;
        for (int i = 0; i < c.readableCount() && at < total; i++) {
            int n = (int) Math.min(c.length(i), total - at);
            MemorySegment.copy(c.segment(i), ValueLayout.JAVA_BYTE, 0, out, at, n);
            at += n;
        }
        return out;
    }

    private static int scatter(DescriptorChain c, byte[] data) {
        int at = 0;
        for (int i = c.readableCount(); i < c.count() && at < data.length; i++) {
            int n = (int) Math.min(c.length(i), data.length - at);
            MemorySegment.copy(data, at, c.segment(i), ValueLayout.JAVA_BYTE, 0, n);
            at += n;
        }
        return at;
    }

    /** Bytes of guest output dropped on {@code port} because nobody read them. */
    public long dropped(int port) {
        return ports.get(port).dropped();
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * Layout version 1:
     * <pre>
     * bool device ready (the driver's DEVICE_READY)
     * i32 n, then n control messages not yet delivered, each as bytes
     * i32 port count, then per port: bool driver told open | bytes host input not yet taken
     * </pre>
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        out.bool(deviceReady);
        out.i32(control.size());
        for (byte[] m : control) {
            out.bytes(m);
        }
        out.i32(ports.size());
        for (int p = 0; p < ports.size(); p++) {
            out.bool(announcedOpen[p]);
            java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
            input.get(p).forEach(chunk -> pending.write(chunk, 0, chunk.length));
            out.bytes(pending.toByteArray());
        }
    }

    /**
     * Restores the driver's view; a port whose client state differs from what the driver was
     * told (a port told open has no client right after a restore) gets a PORT_OPEN with the
     * truth, delivered once the control queue is served.
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        boolean ready = in.bool();
        int messages = in.intIn(0, MAX_CONTROL_PENDING, "the number of control messages");
        List<byte[]> savedControl = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
            byte[] m = in.bytes();
            if (m.length < 8 || m.length > MAX_CONTROL_MESSAGE) {
                throw in.invalid("a control message has " + m.length + " bytes");
            }
            savedControl.add(m);
        }
        int count = in.i32();
        if (count != ports.size()) {
            throw new SnapshotException(in.part() + ": the snapshot has " + count + " console ports, this device "
                    + ports.size());
        }
        boolean[] open = new boolean[count];
        byte[][] pending = new byte[count][];
        for (int p = 0; p < count; p++) {
            open[p] = in.bool();
            pending[p] = in.bytes();
            if (pending[p].length > INPUT_LIMIT) {
                throw in.invalid("port " + p + " has " + pending[p].length + " bytes of input waiting");
            }
        }
        deviceReady = ready;
        control.clear();
        control.addAll(savedControl);
        for (int p = 0; p < count; p++) {
            input.get(p).clear();
            if (pending[p].length > 0) {
                input.get(p).add(pending[p]);
            }
            inputBytes[p] = pending[p].length;
            announcedOpen[p] = open[p];
            boolean connected = ports.get(p).isConnected();
            if (open[p] != connected && (open[p] || deviceReady)) {
                queueControl(p, PORT_OPEN, connected ? 1 : 0, null);
                announcedOpen[p] = connected;
            }
        }
    }

    /** Finishes the queue work in progress (it holds this lock) and holds socket input back. */
    @Override
    public synchronized void quiesce() {
        paused = true;
    }

    @Override
    public synchronized void resumeAfterSnapshot() {
        paused = false;
        notifyAll();
    }

    @Override
    public void close() {
        ports.forEach(ConsolePort::close);
    }
}
