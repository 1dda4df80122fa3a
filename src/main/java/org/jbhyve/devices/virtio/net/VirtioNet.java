package org.jbhyve.devices.virtio.net;

import java.util.OptionalInt;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.backend.net.NetBackend;
import org.jbhyve.backend.net.NetConfig;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.virtio.VirtioDevice;
import org.jbhyve.virtio.VirtioPci;
import org.jbhyve.virtio.VirtioTransport;

/**
 * virtio-net (virtio 1.x section 5.1), P4. Queues: 0 receive, 1 transmit, 2 control.
 *
 * <pre>
 * config space (little-endian)   0 u8 mac[6]   6 le16 status (1 = LINK_UP)
 *                                8 le16 max_virtqueue_pairs (1)   10 le16 mtu
 * </pre>
 *
 * Features offered: MAC, STATUS, MRG_RXBUF, MTU (with {@code mtu=}), CSUM and HOST_TSO4/6/ECN
 * (the guest may send partially checksummed and TSO frames: the tap takes them as they are),
 * GUEST_CSUM and GUEST_TSO4/6/ECN (the tap may deliver such frames: enabled on the tap with
 * TUNSETOFFLOAD only when negotiated), CTRL_VQ with CTRL_RX and CTRL_MAC_ADDR. UFO is not
 * offered: current Linux taps no longer produce UFO frames and segment them in software.
 *
 * <p>At DRIVER_OK the backend's header size becomes 12 (VERSION_1 or MRG_RXBUF) or 10 (a
 * legacy driver without MRG_RXBUF) and frames queued while the device was down are dropped.
 *
 * <p>Snapshots: the MAC (the driver may change it) and the receive filter are saved; the rings
 * are the transport's, the tap is reopened. {@link #quiesce} stops both data paths after their
 * batch in progress (used entries published, interrupts sent), gives receive chains held for
 * a frame back to the ring, and leaves frames that arrive meanwhile in the backend's queue,
 * which drops beyond its bound as it does while the guest posts no buffers.
 */
public final class VirtioNet implements VirtioDevice, Snapshottable {
    public static final int F_CSUM = 0, F_GUEST_CSUM = 1, F_MTU = 3, F_MAC = 5;
    public static final int F_GUEST_TSO4 = 7, F_GUEST_TSO6 = 8, F_GUEST_ECN = 9, F_GUEST_UFO = 10;
    public static final int F_HOST_TSO4 = 11, F_HOST_TSO6 = 12, F_HOST_ECN = 13, F_HOST_UFO = 14;
    public static final int F_MRG_RXBUF = 15, F_STATUS = 16, F_CTRL_VQ = 17, F_CTRL_RX = 18, F_CTRL_MAC_ADDR = 23;
    public static final int RX = 0, TX = 1, CTRL = 2;
    public static final int QUEUE_SIZE = 256;
    public static final int CONFIG_SIZE = 12;
    public static final int STATUS_LINK_UP = 1;
    /** Frames queued before DRIVER_OK that activation throws away (the backend keeps at most 256). */
    private static final int STALE_FRAMES = 1024;

    private final NetBackend backend;
    private final OptionalInt mtu;
    private final byte[] mac;
    private final NetControl control;
    private final NetReceiver receiver;
    private final NetTransmitter transmitter;
    private final NetWorker rxWorker;
    private final NetWorker txWorker;

    public VirtioNet(NetConfig config) {
        this(config.backend(), config.mac(), config.mtu());
    }

    public VirtioNet(NetBackend backend, MacAddress mac, OptionalInt mtu) {
        this.backend = backend;
        this.mtu = mtu;
        this.mac = mac.octets();
        this.control = new NetControl(this.mac);
        this.receiver = new NetReceiver(backend, control);
        this.transmitter = new NetTransmitter(backend);
        String name = "virtio-net-" + backend.name();
        this.rxWorker = new NetWorker(name + "-rx", receiver::drain);
        this.txWorker = new NetWorker(name + "-tx", transmitter::drain);
        backend.setReceiveListener(rxWorker::signal);
    }

    @Override
    public int deviceType() {
        return 1;
    }

    @Override
    public int legacyPciDeviceId() {
        return 0x1000;
    }

    @Override
    public int pciClass() {
        return 0x020000; // network, Ethernet
    }

    @Override
    public long features() {
        long f = 1L << F_MAC | 1L << F_STATUS | 1L << F_MRG_RXBUF
                | 1L << F_CSUM | 1L << F_HOST_TSO4 | 1L << F_HOST_TSO6 | 1L << F_HOST_ECN
                | 1L << F_GUEST_CSUM | 1L << F_GUEST_TSO4 | 1L << F_GUEST_TSO6 | 1L << F_GUEST_ECN
                | 1L << F_CTRL_VQ | 1L << F_CTRL_RX | 1L << F_CTRL_MAC_ADDR;
        if (mtu.isPresent()) {
            f |= 1L << F_MTU;
        }
        return f;
    }

    @Override
    public int queueCount() {
        return 3;
    }

    @Override
    public int queueMaxSize() {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size && i < 8; i++) {
            v |= (long) configByte(offset + i) << (8 * i);
        }
        return v;
    }

    private int configByte(int at) {
        if (at >= 0 && at < 6) {
            synchronized (mac) {
                return mac[at] & 0xFF;
            }
        }
        return switch (at) {
            case 6 -> STATUS_LINK_UP;
            case 8 -> 1;            // max_virtqueue_pairs, low byte
            case 10 -> mtu.orElse(0) & 0xFF;
            case 11 -> mtu.orElse(0) >>> 8 & 0xFF;
            default -> 0;
        };
    }

    /** Legacy drivers may write the MAC (bhyve allows it); everything else is read-only. */
    @Override
    public void writeConfig(int offset, int size, long value) {
        synchronized (mac) {
            for (int i = 0; i < size && i < 8; i++) {
                int at = offset + i;
                if (at >= 0 && at < 6) {
                    mac[at] = (byte) (value >>> (8 * i));
                }
            }
        }
    }

    @Override
    public void activate(VirtioTransport transport) {
        long f = transport.negotiatedFeatures();
        boolean merge = (f & 1L << F_MRG_RXBUF) != 0;
        int header = merge || (f & 1L << VirtioPci.F_VERSION_1) != 0 ? 12 : 10;
        backend.setVnetHeader(header);
        boolean csum = has(f, F_GUEST_CSUM);
        boolean tso4 = csum && has(f, F_GUEST_TSO4);
        boolean tso6 = csum && has(f, F_GUEST_TSO6);
        backend.setOffloads(csum, tso4, tso6, (tso4 || tso6) && has(f, F_GUEST_ECN), false);
        for (int i = 0; i < STALE_FRAMES && backend.discard(); i++) {
            // queued while the device was down (maybe with another header size or offloads)
        }
        control.activate(transport, has(f, F_CTRL_VQ) && has(f, F_CTRL_RX));
        transmitter.activate(transport, header, has(f, F_CSUM), has(f, F_HOST_TSO4), has(f, F_HOST_TSO6),
                has(f, F_HOST_ECN));
        receiver.activate(transport, header, merge);
        rxWorker.signal();
        txWorker.signal();
    }

    private static boolean has(long features, int bit) {
        return (features & 1L << bit) != 0;
    }

    /** Waits for the batch in progress on each queue, then forgets the session. */
    @Override
    public void reset() {
        receiver.reset();
        transmitter.reset();
        control.reset();
        backend.setOffloads(false, false, false, false, false);
    }

    @Override
    public void queueNotified(int queue) {
        switch (queue) {
            case RX -> rxWorker.signal();  // buffers for frames that waited
            case TX -> txWorker.signal();
            case CTRL -> control.serve();  // a few short commands: inline
            default -> { }
        }
    }

    /** The MAC the device answers to now (config space, maybe changed by the driver). */
    public MacAddress mac() {
        synchronized (mac) {
            return MacAddress.of(mac);
        }
    }

    public NetBackend backend() {
        return backend;
    }

    /** Frames the guest sent that were dropped (bad chains or headers, backend refusals). */
    public long txDropped() {
        return transmitter.dropped();
    }

    public long txFrames() {
        return transmitter.frames();
    }

    /** Frames from the host that were dropped here (too large for the buffers, filtered). */
    public long rxDropped() {
        return receiver.dropped();
    }

    public long rxFrames() {
        return receiver.frames();
    }

    /** Receive chains the guest laid out so badly they were returned unused. */
    public long rxBadChains() {
        return receiver.badChains();
    }

    /** Whether both data paths are idle (nothing running, nothing signalled). */
    boolean idle() {
        return rxWorker.idle() && txWorker.idle();
    }

    /** Batches that failed with an unexpected exception (a bug; zero in a healthy device). */
    public long workerFailures() {
        return rxWorker.failures() + txWorker.failures();
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /** Layout version 1: bytes mac (6), then the receive filter ({@link NetControl#saveState}). */
    @Override
    public void saveState(StateWriter out) {
        synchronized (mac) {
            out.bytes(mac);
        }
        control.saveState(out);
    }

    @Override
    public void restoreState(StateReader in, int version) {
        byte[] saved = in.bytes(6);
        control.restoreState(in);
        synchronized (mac) {
            System.arraycopy(saved, 0, mac, 0, 6);
        }
    }

    @Override
    public void quiesce() {
        receiver.pause();
        transmitter.pause();
    }

    @Override
    public void resumeAfterSnapshot() {
        receiver.resume();
        transmitter.resume();
        rxWorker.signal();
        txWorker.signal();
    }

    @Override
    public void close() {
        backend.setReceiveListener(null);
        rxWorker.close();
        txWorker.close();
        backend.close();
    }
}
