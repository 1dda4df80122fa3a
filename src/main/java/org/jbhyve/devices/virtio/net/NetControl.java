package org.jbhyve.devices.virtio.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * The control queue (virtio 1.x 5.1.6.5) and the receive filter it programs.
 *
 * <pre>
 * command chain: u8 class | u8 command | data...   (device-readable)
 *                u8 ack (0 OK, 1 ERR)              (last device-writable byte)
 * class 0 RX:  0 PROMISC, 1 ALLMULTI, 2 ALLUNI, 3 NOMULTI, 4 NOUNI, 5 NOBCAST; data u8 on/off
 * class 1 MAC: 0 TABLE_SET: le32 n, n unicast MACs, le32 m, m multicast MACs
 *              1 ADDR_SET: 6-byte MAC (becomes the config-space MAC)
 * </pre>
 * Until the driver says otherwise the device is promiscuous (it passes everything the tap
 * gives it), as QEMU's is; the filter only applies when CTRL_RX was negotiated. Anything else
 * is answered ERR. Commands are few and short, so they are served on the notifying thread.
 */
final class NetControl {
    static final int CLASS_RX = 0, CLASS_MAC = 1;
    static final int RX_PROMISC = 0, RX_ALLMULTI = 1, RX_ALLUNI = 2, RX_NOMULTI = 3, RX_NOUNI = 4, RX_NOBCAST = 5;
    static final int MAC_TABLE_SET = 0, MAC_ADDR_SET = 1;
    static final int OK = 0, ERR = 1;
    /** Largest command read (a MAC table of ~5,000 entries); longer ones are refused. */
    static final int MAX_COMMAND = 32 * 1024;
    private static final byte[] NONE = new byte[0];

    private final byte[] mac; // shared with the config space, guarded by itself
    private VirtioTransport transport;
    private volatile boolean filtering;
    private volatile boolean promisc = true, allMulti, allUni, noMulti, noUni, noBroadcast;
    private volatile byte[] unicast = NONE, multicast = NONE;

    NetControl(byte[] mac) {
        this.mac = mac;
    }

    synchronized void activate(VirtioTransport transport, boolean filtering) {
        this.transport = transport;
        this.filtering = filtering;
    }

    synchronized void reset() {
        transport = null;
        filtering = false;
        promisc = true;
        allMulti = allUni = noMulti = noUni = noBroadcast = false;
        unicast = multicast = NONE;
    }

    /** Serves every command available (at most one ring's worth per call; the driver waits on each). */
    synchronized void serve() {
        VirtioTransport t = transport;
        if (t == null) {
            return;
        }
        Virtqueue q = t.queue(VirtioNet.CTRL);
        int served = 0;
        try {
            for (int budget = q.size(); budget > 0; budget--) {
                DescriptorChain c = q.pop();
                if (c == null) {
                    break;
                }
                q.addUsed(c.head(), execute(c));
                served++;
            }
        } catch (VirtqueueException e) {
            t.queueBroken(q, e);
        }
        if (served > 0) {
            t.notifyUsed(q);
        }
    }

    /** Runs one command; returns the bytes written (1 with an ack, 0 when there is no room for it). */
    private int execute(DescriptorChain c) {
        if (c.writableBytes() == 0) {
            return 0;
        }
        int status = ERR;
        long readable = c.readableBytes();
        if (readable >= 2 && readable <= MAX_COMMAND) {
            byte[] cmd = new byte[(int) readable];
            int at = 0;
            for (int i = 0; i < c.readableCount(); i++) {
                MemorySegment s = c.segment(i);
                MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, cmd, at, (int) s.byteSize());
                at += (int) s.byteSize();
            }
            status = command(cmd[0] & 0xFF, cmd[1] & 0xFF, Arrays.copyOfRange(cmd, 2, cmd.length));
        }
        int last = c.count() - 1;
        MemorySegment ack = c.segment(last);
        if (ack.byteSize() == 0) {
            return 0;
        }
        ack.set(ValueLayout.JAVA_BYTE, ack.byteSize() - 1, (byte) status);
        return 1;
    }

    int command(int cls, int cmd, byte[] data) {
        if (cls == CLASS_RX && cmd <= RX_NOBCAST && data.length >= 1) {
            boolean on = data[0] != 0;
            switch (cmd) {
                case RX_PROMISC -> promisc = on;
                case RX_ALLMULTI -> allMulti = on;
                case RX_ALLUNI -> allUni = on;
                case RX_NOMULTI -> noMulti = on;
                case RX_NOUNI -> noUni = on;
                default -> noBroadcast = on;
            }
            return OK;
        }
        if (cls == CLASS_MAC && cmd == MAC_ADDR_SET && data.length >= 6) {
            if ((data[0] & 1) != 0) {
                return ERR; // a multicast address cannot be the station address
            }
            synchronized (mac) {
                System.arraycopy(data, 0, mac, 0, 6);
            }
            return OK;
        }
        if (cls == CLASS_MAC && cmd == MAC_TABLE_SET) {
            byte[] uni = table(data, 0);
            if (uni == null) {
                return ERR;
            }
            byte[] multi = table(data, 4 + uni.length);
            if (multi == null) {
                return ERR;
            }
            unicast = uni;
            multicast = multi;
            return OK;
        }
        return ERR;
    }

    /** A {le32 entries; u8 macs[entries][6]} table at {@code at}, or null when it does not fit. */
    private static byte[] table(byte[] data, int at) {
        if (at + 4 > data.length) {
            return null;
        }
        long n = Integer.toUnsignedLong(data[at] & 0xFF | (data[at + 1] & 0xFF) << 8 | (data[at + 2] & 0xFF) << 16
                | (data[at + 3] & 0xFF) << 24);
        if (n > (data.length - at - 4) / 6) {
            return null;
        }
        return Arrays.copyOfRange(data, at + 4, at + 4 + (int) n * 6);
    }

    /**
     * The receive filter the driver programmed: bool promisc, allmulti, alluni, nomulti, nouni,
     * nobcast; bytes unicast table; bytes multicast table (6 bytes per address). Whether the
     * filter applies at all follows from the negotiated features, restored with the transport.
     */
    synchronized void saveState(StateWriter out) {
        out.bool(promisc).bool(allMulti).bool(allUni).bool(noMulti).bool(noUni).bool(noBroadcast);
        out.bytes(unicast).bytes(multicast);
    }

    synchronized void restoreState(StateReader in) {
        boolean[] flags = new boolean[6];
        for (int i = 0; i < flags.length; i++) {
            flags[i] = in.bool();
        }
        byte[] uni = macTable(in, "unicast");
        byte[] multi = macTable(in, "multicast");
        promisc = flags[0];
        allMulti = flags[1];
        allUni = flags[2];
        noMulti = flags[3];
        noUni = flags[4];
        noBroadcast = flags[5];
        unicast = uni;
        multicast = multi;
    }

    private static byte[] macTable(StateReader in, String what) {
        byte[] table = in.bytes();
        if (table.length % 6 != 0 || table.length > MAX_COMMAND) {
            throw in.invalid("the " + what + " MAC table has " + table.length + " bytes");
        }
        return table;
    }

    /** Whether a frame for destination MAC {@code dst} passes the filter. */
    boolean accepts(byte[] dst) {
        if (!filtering || promisc) {
            return true;
        }
        boolean broadcast = true;
        for (byte b : dst) {
            broadcast &= b == (byte) 0xFF;
        }
        if (broadcast) {
            return !noBroadcast;
        }
        if ((dst[0] & 1) != 0) {
            return !noMulti && (allMulti || contains(multicast, dst));
        }
        if (noUni) {
            return false;
        }
        if (allUni) {
            return true;
        }
        synchronized (mac) {
            if (Arrays.equals(mac, dst)) {
                return true;
            }
        }
        return contains(unicast, dst);
    }

    boolean filtering() {
        return filtering && !promisc;
    }

    private static boolean contains(byte[] table, byte[] dst) {
        for (int i = 0; i + 6 <= table.length; i += 6) {
            if (Arrays.equals(table, i, i + 6, dst, 0, 6)) {
                return true;
            }
        }
        return false;
    }
}
