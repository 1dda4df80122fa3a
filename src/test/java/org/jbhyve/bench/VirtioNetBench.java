package org.jbhyve.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.backend.net.TapBackend;
import org.jbhyve.devices.virtio.net.VirtioNet;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.Tun;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPci;
import org.jbhyve.virtio.VirtioPciFunction;

/**
 * virtio-net device model against raw tap I/O (see bench/virtio-net for the setup). Per frame
 * size, four runs of {@code seconds} each, every one with its own descriptor on the tap:
 * <ul>
 *   <li>tx device: a mock driver keeps the transmit ring full of one frame (12-byte header,
 *       Ethernet frame to a unicast MAC nobody has, EtherType 0x88B5), kicking only when
 *       EVENT_IDX asks and sleeping on the queue interrupt when the ring is full; counted: frames
 *       the device handed to the tap.</li>
 *   <li>tx raw: the same header and frame written with write(2) in a loop; counted: successful writes.</li>
 *   <li>rx device / raw: a UDP socket in the namespace sends datagrams to 10.0.9.2 (a permanent
 *       neighbour entry on the tap), so the kernel transmits them on the tap and they queue for
 *       whoever holds its descriptor; counted: frames the device put in the mock driver's
 *       receive ring (recycled at once), or frames read(2) returned. The sender runs flat out on
 *       the same CPUs, so rx numbers are what the consumer keeps up with under that load.</li>
 * </ul>
 */
public final class VirtioNetBench {
    private static final int HEADER = 12;
    private static final int QUEUE = 256;
    /** Device and raw transmit runs per frame size, taking turns. */
    private static final int TX_PAIRS = 3;
    private static final long FEATURES = 1L << VirtioNet.F_MAC | 1L << VirtioNet.F_STATUS
            | 1L << VirtioNet.F_MRG_RXBUF | 1L << VirtioPci.F_EVENT_IDX | 1L << VirtioPci.F_VERSION_1;

    private record Rate(long frames, double seconds) {
        double pps() {
            return frames / seconds;
        }

        double gbps(int size) {
            return pps() * size * 8 / 1e9;
        }
    }

    public static void main(String[] args) throws Exception {
        String tap = null;
        double seconds = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tap" -> tap = args[++i];
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("usage: VirtioNetBench --tap NAME [--seconds S]");
            }
        }
        if (tap == null) {
            throw new IllegalArgumentException("usage: VirtioNetBench --tap NAME [--seconds S]");
        }
        int[] sizes = {64, 512, 1500};
        deviceTx(tap, 64, Math.min(1, seconds)); // warm-up: JIT the device path
        rawTx(tap, 64, Math.min(1, seconds));
        double ratio = 0;
        System.out.printf("%-5s %-3s %14s %12s %14s %12s %8s%n", "size", "dir", "device pps", "device Gb/s",
                "raw pps", "raw Gb/s", "dev/raw");
        for (int size : sizes) {
            // tx: TX_PAIRS device and raw runs taking turns (device first, then raw first...), so
            // that a change in the host's load weighs on both sides alike; medians of each side
            // and of the pairs' ratios.
            double[] devicePps = new double[TX_PAIRS];
            double[] rawPps = new double[TX_PAIRS];
            double[] ratios = new double[TX_PAIRS];
            for (int pair = 0; pair < TX_PAIRS; pair++) {
                Rate first = pair % 2 == 0 ? deviceTx(tap, size, seconds) : rawTx(tap, size, seconds);
                Rate second = pair % 2 == 0 ? rawTx(tap, size, seconds) : deviceTx(tap, size, seconds);
                devicePps[pair] = (pair % 2 == 0 ? first : second).pps();
                rawPps[pair] = (pair % 2 == 0 ? second : first).pps();
                ratios[pair] = devicePps[pair] / rawPps[pair];
            }
            Rate dr = deviceRx(tap, size, seconds);
            Rate rr = rawRx(tap, size, seconds);
            row(size, "tx", new Rate(Math.round(median(devicePps)), 1), new Rate(Math.round(median(rawPps)), 1),
                    median(ratios));
            row(size, "rx", dr, rr, dr.pps() / rr.pps());
            if (size == 64) {
                ratio = median(ratios);
            }
        }
        System.out.println("(sizes are Ethernet frame bytes without FCS; Gb/s counts those bytes; tx: medians of "
                + TX_PAIRS + " device and raw runs taking turns, dev/raw the median of their ratios; ratio below: tx, 64 bytes)");
        System.out.printf("ratio=%.2f%n", ratio);
    }

    private static void row(int size, String dir, Rate device, Rate raw, double ratio) {
        System.out.printf("%-5d %-3s %14.0f %12.3f %14.0f %12.3f %8.2f%n", size, dir, device.pps(), device.gbps(size),
                raw.pps(), raw.gbps(size), ratio);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Header (zero) + Ethernet frame of {@code size} bytes to 02:00:00:00:00:01, EtherType 0x88B5. */
    private static byte[] frame(int size) {
        byte[] f = new byte[HEADER + size];
        byte[] dst = {2, 0, 0, 0, 0, 1};
        byte[] src = {2, 0, 0, 0, 0, 0x10};
        System.arraycopy(dst, 0, f, HEADER, 6);
        System.arraycopy(src, 0, f, HEADER + 6, 6);
        f[HEADER + 12] = (byte) 0x88;
        f[HEADER + 13] = (byte) 0xB5;
        for (int i = HEADER + 14; i < f.length; i++) {
            f[i] = (byte) i;
        }
        return f;
    }

    private static final class Device implements AutoCloseable {
        final MockGuest guest = new MockGuest(64 << 20);
        final VirtioNet net;
        final VirtioPciFunction function;
        final MockDriver driver;

        Device(String tap) {
            net = new VirtioNet(TapBackend.open("virtio-net", tap, OptionalInt.empty()),
                    MacAddress.parse("02:00:00:00:00:20"), OptionalInt.empty());
            function = new VirtioPciFunction(net, guest.memory, guest, GuestDoorbells.NONE, true);
            driver = new MockDriver(function, guest);
            driver.startModern(FEATURES, QUEUE, true);
        }

        @Override
        public void close() {
            function.close();
            guest.close();
        }
    }

    /** vring_need_event: whether moving the avail index from {@code old} to {@code now} passes avail_event. */
    private static boolean needKick(MockQueue q, int old, int now) {
        int event = q.availEvent();
        return ((now - event - 1) & 0xFFFF) < ((now - old) & 0xFFFF);
    }

    private static Rate deviceTx(String tap, int size, double seconds) throws InterruptedException {
        try (Device d = new Device(tap)) {
            MockQueue q = d.driver.queues[VirtioNet.TX];
            byte[] f = frame(size);
            long buf = d.guest.alloc(f.length, 64);
            d.guest.ram.asSlice(buf, f.length).copyFrom(MemorySegment.ofArray(f));
            MockQueue.Buf one = new MockQueue.Buf(buf, f.length, false);
            int avail = 0;
            long start = System.nanoTime();
            long before = d.net.txFrames();
            long end = start + (long) (seconds * 1e9);
            int reclaimed = 0;
            while (System.nanoTime() < end) {
                while (q.poll() != null) {
                    reclaimed = (reclaimed + 1) & 0xFFFF; // recycle completed chains
                }
                int old = avail;
                while (q.freeDescriptors() > 0) {
                    q.add(one);
                    avail = (avail + 1) & 0xFFFF;
                }
                if (avail != old && needKick(q, old, avail)) {
                    d.driver.kick(VirtioNet.TX);
                }
                // Like a NAPI driver: reclaim and refill in batches, sleeping on the interrupt meanwhile.
                d.guest.msis.drainPermits();
                if (q.usedIndex() == reclaimed && q.freeDescriptors() < QUEUE / 2) {
                    d.guest.msis.tryAcquire(1, java.util.concurrent.TimeUnit.MILLISECONDS);
                }
            }
            long sent = d.net.txFrames() - before;
            return new Rate(sent, (System.nanoTime() - start) / 1e9);
        }
    }

    private static Fd attach(String tap) {
        Fd fd = Tun.attach(tap, (short) (Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR));
        Tun.setVnetHeaderSize(fd, HEADER);
        return fd;
    }

    private static Rate rawTx(String tap, int size, double seconds) {
        try (Arena arena = Arena.ofConfined(); Fd fd = attach(tap)) {
            byte[] f = frame(size);
            MemorySegment buf = arena.allocate(f.length, 64);
            buf.copyFrom(MemorySegment.ofArray(f));
            long ok = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            while (true) {
                for (int i = 0; i < 256; i++) {
                    try {
                        Posix.write(fd, buf, f.length);
                        ok++;
                    } catch (SysException e) {
                        // counted as not sent, like the backend's refusals
                    }
                }
                if (System.nanoTime() >= end) {
                    break;
                }
            }
            return new Rate(ok, (System.nanoTime() - start) / 1e9);
        }
    }

    /** Sends UDP datagrams making {@code size}-byte frames to 10.0.9.2 until stopped. */
    private static Thread sender(int size, AtomicBoolean stop) {
        Thread t = Thread.ofPlatform().daemon().name("bench-udp-sender").start(() -> {
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.connect(new InetSocketAddress("10.0.9.2", 9));
                ByteBuffer payload = ByteBuffer.allocateDirect(size - 42);
                while (!stop.get()) {
                    payload.clear();
                    try {
                        ch.write(payload);
                    } catch (java.io.IOException e) {
                        Thread.onSpinWait(); // ENOBUFS when the tap queue is full: go on
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return t;
    }

    private static Rate deviceRx(String tap, int size, double seconds) throws InterruptedException {
        try (Device d = new Device(tap)) {
            MockQueue q = d.driver.queues[VirtioNet.RX];
            int bufSize = 2048;
            long base = d.guest.alloc((long) bufSize * QUEUE, 64);
            int avail = 0;
            for (int i = 0; i < QUEUE; i++) {
                q.add(new MockQueue.Buf(base + (long) bufSize * i, bufSize, true));
                avail++;
            }
            d.driver.kick(VirtioNet.RX);
            AtomicBoolean stop = new AtomicBoolean();
            Thread s = sender(size, stop);
            long start = System.nanoTime();
            long before = d.net.rxFrames();
            long end = start + (long) (seconds * 1e9);
            MockQueue.Buf[] bufs = new MockQueue.Buf[QUEUE];
            for (int i = 0; i < QUEUE; i++) {
                bufs[i] = new MockQueue.Buf(base + (long) bufSize * i, bufSize, true);
            }
            int next = 0;
            while (System.nanoTime() < end) {
                int old = avail;
                while (q.poll() != null) {
                    q.add(bufs[next]);
                    next = (next + 1) % QUEUE;
                    avail = (avail + 1) & 0xFFFF;
                }
                if (avail != old) {
                    if (needKick(q, old, avail)) {
                        d.driver.kick(VirtioNet.RX);
                    }
                } else {
                    d.guest.msis.tryAcquire(1, java.util.concurrent.TimeUnit.MILLISECONDS);
                    d.guest.msis.drainPermits();
                }
            }
            long got = d.net.rxFrames() - before;
            double elapsed = (System.nanoTime() - start) / 1e9;
            stop.set(true);
            s.join();
            return new Rate(got, elapsed);
        }
    }

    private static Rate rawRx(String tap, int size, double seconds) throws InterruptedException {
        try (Arena arena = Arena.ofConfined(); Fd fd = attach(tap)) {
            MemorySegment buf = arena.allocate(65536 + HEADER, 64);
            AtomicBoolean stop = new AtomicBoolean();
            Thread s = sender(size, stop);
            Fd[] fds = {fd};
            short[] events = {Poll.POLLIN};
            short[] revents = new short[1];
            long got = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                try {
                    Posix.read(fd, buf, buf.byteSize());
                    got++;
                } catch (SysException e) {
                    if (e.errno() != Errno.EAGAIN) {
                        throw e;
                    }
                    Poll.poll(fds, events, revents, 10);
                }
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            stop.set(true);
            s.join();
            return new Rate(got, elapsed);
        }
    }

}
