package org.jbhyve.backend.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.Tun;

/**
 * A Linux tap interface as a {@link NetBackend} (bhyve's {@code tapN} and {@code vmnetN}).
 *
 * <p>Like bhyve, it attaches to an interface the administrator created and never creates one:
 * TUNSETIFF on an unknown name would make a transient interface nobody bridged, so a missing
 * name is refused first. The descriptor is always opened with {@code IFF_VNET_HDR}; while the
 * user's header size is 0 the backend adds a zero 10-byte header to frames it sends and strips
 * the kernel's from frames it receives, so e1000 sees bare frames and virtio-net can switch to
 * headers (and offloads) at feature negotiation without reopening the interface.
 *
 * <p>One platform daemon thread per backend polls the tap and a wake-up eventfd, reads every
 * frame that is ready into a bounded queue ({@value #QUEUE_FRAMES} frames), then calls the
 * receive listener. A full queue drops the new frame and counts it.
 *
 * <p>The queue is a ring of off-heap slots of {@value #SLOT_BYTES} bytes allocated once: a
 * frame is read (readv) straight into the free slot at the tail, with a second buffer
 * catching the rest of a larger frame (TSO, jumbo), which is then kept in a byte array of its
 * own. Ordinary frames are thus copied once, from the slot into the receiver's buffers, and
 * cost no allocation. The reader fills the tail slot outside the lock (only it writes there);
 * a header-size change while it reads bumps {@code headerGeneration} and the frame is dropped.
 */
public final class TapBackend implements NetBackend {
    static final int QUEUE_FRAMES = 256;
    private static final LazyLogger LOG = new LazyLogger(TapBackend.class);
    private static final int DEFAULT_KERNEL_HEADER = 10;
    private static final int MAX_PARTS = 64;
    private static final MemorySegment ZERO_HEADER = Arena.global().allocate(16);

    static final int SLOT_BYTES = 2048;

    private final String device;
    private final String ifname;
    private final Fd tap;
    private final Fd wake = Posix.eventfd(0, Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
    private final OptionalInt mtu;
    /** The receive ring, guarded by {@code receiveLock}: frames head .. head + count - 1. */
    private final MemorySegment[] slots = new MemorySegment[QUEUE_FRAMES];
    private final int[] lengths = new int[QUEUE_FRAMES];
    private final int[] headers = new int[QUEUE_FRAMES];
    private final byte[][] large = new byte[QUEUE_FRAMES][];
    private int head;
    private int count;
    private int headerGeneration;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ThreadLocal<MemorySegment> iovScratch =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Tun.iovecBytes(MAX_PARTS + 1), 8));
    private final ThreadLocal<MemorySegment> sendStaging =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(MAX_FRAME + 16, 8));
    private final Object receiveLock = new Object();
    /** Guards the send batch: frames queued by one thread at a time, flushed in order. */
    private final Object sendBatchLock = new Object();
    private final MemorySegment[] batchParts = new MemorySegment[MAX_PARTS + 1];
    private TapSendBatch sendBatch;
    private boolean sendBatchTried;
    private volatile Runnable listener;
    private volatile int userHeader;
    private volatile int kernelHeader = DEFAULT_KERNEL_HEADER;
    private final Thread reader;

    private TapBackend(String device, String ifname, Fd tap, OptionalInt mtu) {
        this.device = device;
        this.ifname = ifname;
        this.tap = tap;
        this.mtu = mtu;
        MemorySegment ring = Arena.ofAuto().allocate((long) SLOT_BYTES * QUEUE_FRAMES, 64);
        for (int i = 0; i < QUEUE_FRAMES; i++) {
            slots[i] = ring.asSlice((long) SLOT_BYTES * i, SLOT_BYTES);
        }
        this.reader = Thread.ofPlatform().daemon().name(device + "-" + ifname + "-rx").unstarted(this::readLoop);
        reader.start();
    }

    /**
     * Attaches to the existing tap interface {@code ifname} and applies {@code mtu} to it.
     * {@code device} prefixes error messages (e.g. "e1000"). Throws {@link NetBackendException}
     * with a one-line message saying what to do.
     */
    public static TapBackend open(String device, String ifname, OptionalInt mtu) {
        String prefix = device + ": " + ifname + ": ";
        if (!Tun.isValidInterfaceName(ifname)) {
            throw new NetBackendException(device + ": '" + ifname + "' is not a valid network interface name");
        }
        String create = "create it with 'ip tuntap add " + ifname + " mode tap' (and bring it up with 'ip link set "
                + ifname + " up')";
        if (Tun.interfaceIndex(ifname) == 0) {
            throw new NetBackendException(prefix + "no such tap interface: " + create);
        }
        Path flags = Path.of("/sys/class/net", ifname, "tun_flags");
        if (Files.isReadable(flags)) {
            try {
                int f = Integer.decode(Files.readString(flags).trim());
                if ((f & Tun.IFF_TAP) == 0) {
                    throw new NetBackendException(prefix + "is a tun (layer 3) interface, not a tap: " + create);
                }
                if ((f & Tun.IFF_MULTI_QUEUE) != 0) {
                    throw new NetBackendException(prefix + "is a multi-queue tap, which is not supported: recreate it with 'ip tuntap add "
                            + ifname + " mode tap'");
                }
            } catch (java.io.IOException | NumberFormatException e) {
                // unreadable: let TUNSETIFF decide
            }
        } else if (Files.isDirectory(Path.of("/sys/class/net", ifname))) {
            throw new NetBackendException(prefix + "is not a tap interface: " + create);
        }
        Fd fd;
        try {
            fd = Tun.attach(ifname, (short) (Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR));
        } catch (SysException e) {
            throw new NetBackendException(prefix + attachProblem(e, ifname), e);
        }
        try {
            if (mtu.isPresent() && Tun.mtu(ifname) != mtu.getAsInt()) {
                Tun.setMtu(ifname, mtu.getAsInt());
            }
        } catch (SysException e) {
            fd.close();
            throw new NetBackendException(prefix + "cannot set the MTU to " + mtu.getAsInt() + ": " + e.getMessage()
                    + (e.errno() == Errno.EPERM ? " (set it beforehand with 'ip link set " + ifname + " mtu "
                    + mtu.getAsInt() + "')" : ""), e);
        }
        return new TapBackend(device, ifname, fd, mtu);
    }

    private static String attachProblem(SysException e, String ifname) {
        if (e.call().startsWith("open")) {
            return "cannot open /dev/net/tun: " + Errno.describe(e.errno())
                    + (e.errno() == Errno.ENOENT || e.errno() == Errno.ENODEV ? " (load the tun module: modprobe tun)" : "");
        }
        return switch (e.errno()) {
            case Errno.EBUSY -> "tap interface is busy: another process (another VM?) has it open";
            case Errno.EPERM, Errno.EACCES -> "permission denied: run as root or create the tap for your user with 'ip tuntap add "
                    + ifname + " mode tap user $USER'";
            case Errno.EINVAL -> "cannot attach: not a single-queue tap interface";
            default -> "cannot attach: " + Errno.describe(e.errno());
        };
    }

    @Override
    public String name() {
        return ifname;
    }

    /**
     * Queues the frame for the next {@link #flush} when io_uring is there (one system call per
     * batch of {@value TapSendBatch#FRAMES} frames, see {@link TapSendBatch}), else sends it now.
     */
    @Override
    public boolean queue(MemorySegment... parts) {
        synchronized (sendBatchLock) {
            TapSendBatch batch = sendBatch();
            if (batch == null || closed.get() || !allNative(parts)) {
                flushBatch(); // frames go out in order
                return send(parts);
            }
            if (!fits(parts)) {
                return false;
            }
            if (batch.full()) {
                flushBatch();
            }
            int n = 0;
            if (userHeader == 0) {
                batchParts[n++] = ZERO_HEADER.asSlice(0, kernelHeader);
            }
            for (MemorySegment p : parts) {
                batchParts[n++] = p;
            }
            batch.add(batchParts, n);
            java.util.Arrays.fill(batchParts, 0, n, null);
            return true;
        }
    }

    @Override
    public int flush() {
        synchronized (sendBatchLock) {
            return flushBatch();
        }
    }

    private int flushBatch() {
        if (sendBatch == null || sendBatch.queued() == 0) {
            return 0;
        }
        int failed = sendBatch.flush();
        if (failed > 0) {
            countSendFailure(Errno.describe(sendBatch.firstError()));
            sendFailures.addAndGet(failed - 1);
        }
        return failed;
    }

    /** The batch, made on first use; null when io_uring cannot be used here. */
    private TapSendBatch sendBatch() {
        if (!sendBatchTried) {
            sendBatchTried = true;
            sendBatch = TapSendBatch.open(tap, MAX_PARTS + 1);
        }
        return sendBatch;
    }

    /** Whether a frame of these parts has a size the tap takes; counts it as a failure when not. */
    private boolean fits(MemorySegment[] parts) {
        int user = userHeader;
        long total = 0;
        for (MemorySegment p : parts) {
            total += p.byteSize();
        }
        if (total - user > MAX_FRAME || total < user) {
            countSendFailure("frame of " + (total - user) + " bytes is too large");
            return false;
        }
        return true;
    }

    private static boolean allNative(MemorySegment[] parts) {
        boolean allNative = parts.length <= MAX_PARTS;
        for (MemorySegment p : parts) {
            allNative &= p.isNative();
        }
        return allNative;
    }

    @Override
    public boolean send(MemorySegment... parts) {
        if (closed.get() || !fits(parts)) {
            return false;
        }
        int user = userHeader;
        boolean allNative = allNative(parts);
        try {
            if (allNative) {
                MemorySegment[] iov = new MemorySegment[parts.length + 1];
                int n = 0;
                if (user == 0) {
                    iov[n++] = ZERO_HEADER.asSlice(0, kernelHeader);
                }
                for (MemorySegment p : parts) {
                    if (p.byteSize() > 0) {
                        iov[n++] = p;
                    }
                }
                Tun.writev(tap, iov, n, iovScratch.get());
            } else {
                MemorySegment staging = sendStaging.get();
                long at = 0;
                if (user == 0) {
                    staging.asSlice(0, kernelHeader).fill((byte) 0);
                    at = kernelHeader;
                }
                for (MemorySegment p : parts) {
                    MemorySegment.copy(p, 0, staging, at, p.byteSize());
                    at += p.byteSize();
                }
                Posix.write(tap, staging, at);
            }
            return true;
        } catch (SysException e) {
            // EIO: the interface is down; EAGAIN: its queue is full; EINVAL: a malformed header.
            countSendFailure(e.getMessage());
            return false;
        }
    }

    private void countSendFailure(String why) {
        if (sendFailures.getAndIncrement() == 0) {
            LOG.get().warning(device + ": " + ifname + ": frame not sent (" + why + "); further failures are only counted");
        }
    }

    @Override
    public int peekLength() {
        synchronized (receiveLock) {
            return count == 0 ? -1 : lengths[head] - headers[head] + userHeader;
        }
    }

    @Override
    public int receive(MemorySegment... buffers) {
        synchronized (receiveLock) {
            for (int bound = QUEUE_FRAMES; bound >= 0; bound--) {
                if (count == 0) {
                    return -1;
                }
                int h = head;
                int size = lengths[h];
                int header = headers[h];
                byte[] big = large[h];
                large[h] = null;
                head = (h + 1) % QUEUE_FRAMES;
                count--;
                int user = userHeader;
                if (user != 0 && header != user) {
                    dropped.incrementAndGet(); // queued before the header size changed
                    continue;
                }
                MemorySegment frame = big != null ? MemorySegment.ofArray(big) : slots[h];
                int skip = user == 0 ? header : 0;
                int at = skip;
                for (MemorySegment b : buffers) {
                    int now = (int) Math.min(b.byteSize(), size - at);
                    if (now <= 0) {
                        break;
                    }
                    MemorySegment.copy(frame, at, b, 0, now);
                    at += now;
                }
                return size - skip;
            }
            return -1;
        }
    }

    @Override
    public boolean discard() {
        synchronized (receiveLock) {
            if (count == 0) {
                return false;
            }
            large[head] = null;
            head = (head + 1) % QUEUE_FRAMES;
            count--;
            return true;
        }
    }

    @Override
    public void setReceiveListener(Runnable listener) {
        this.listener = listener;
    }

    @Override
    public void setVnetHeader(int size) {
        if (size != 0 && size != 10 && size != 12) {
            throw new IllegalArgumentException("virtio-net header size must be 0, 10 or 12: " + size);
        }
        synchronized (receiveLock) {
            int kernel = size == 0 ? DEFAULT_KERNEL_HEADER : size;
            if (kernel != kernelHeader) {
                headerGeneration++; // a frame being read now may have either size: dropped
                Tun.setVnetHeaderSize(tap, kernel);
                kernelHeader = kernel;
            }
            if (size == 0) {
                Tun.setOffload(tap, 0);
            }
            userHeader = size;
        }
    }

    @Override
    public int vnetHeaderSize() {
        return userHeader;
    }

    @Override
    public void setOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn, boolean ufo) {
        int f = (csum ? Tun.TUN_F_CSUM : 0) | (tso4 ? Tun.TUN_F_TSO4 : 0) | (tso6 ? Tun.TUN_F_TSO6 : 0)
                | (ecn ? Tun.TUN_F_TSO_ECN : 0) | (ufo ? Tun.TUN_F_UFO : 0);
        if (f != 0 && userHeader == 0) {
            throw new IllegalStateException(ifname + ": offloads need a virtio-net header");
        }
        if ((f & ~Tun.TUN_F_CSUM) != 0 && !csum) {
            throw new IllegalArgumentException(ifname + ": segmentation offloads need checksum offload");
        }
        Tun.setOffload(tap, f);
    }

    @Override
    public OptionalInt mtu() {
        return mtu;
    }

    @Override
    public long droppedFrames() {
        return dropped.get();
    }

    /** Frames the host refused or that were malformed. */
    public long sendFailures() {
        return sendFailures.get();
    }

    private void readLoop() {
        Fd[] fds = {tap, wake};
        short[] events = {Poll.POLLIN, Poll.POLLIN};
        short[] revents = new short[2];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment overflow = arena.allocate(MAX_FRAME + 16 - SLOT_BYTES, 8);
            MemorySegment spill = arena.allocate(SLOT_BYTES, 8); // read into when the ring is full
            MemorySegment iov = arena.allocate(Tun.iovecBytes(2), 8);
            while (!closed.get()) {
                if (Poll.poll(fds, events, revents, -1) == 0) {
                    continue;
                }
                if (revents[1] != 0 || closed.get()) {
                    return;
                }
                if ((revents[0] & (Poll.POLLERR | Poll.POLLHUP | Poll.POLLNVAL)) != 0) {
                    LOG.get().warning(device + ": " + ifname + ": the tap interface went away; no more frames will be received");
                    return;
                }
                boolean queued = false;
                for (int burst = 0; burst < QUEUE_FRAMES; burst++) {
                    int header;
                    int generation;
                    int tail;
                    boolean full;
                    synchronized (receiveLock) {
                        header = kernelHeader;
                        generation = headerGeneration;
                        full = count == QUEUE_FRAMES;
                        tail = (head + count) % QUEUE_FRAMES;
                    }
                    // Only this thread fills the tail slot, and the consumers only ever take from
                    // the head, so the slot stays free (and the tail the same) until published.
                    long n = Tun.readv(tap, full ? spill : slots[tail], overflow, iov);
                    if (n < 0) {
                        break; // EAGAIN: the burst is over
                    }
                    if (n < header) {
                        continue;
                    }
                    if (full) {
                        dropped.incrementAndGet();
                        continue;
                    }
                    byte[] big = null;
                    if (n > SLOT_BYTES) {
                        big = new byte[(int) n];
                        MemorySegment.copy(slots[tail], ValueLayout.JAVA_BYTE, 0, big, 0, SLOT_BYTES);
                        MemorySegment.copy(overflow, ValueLayout.JAVA_BYTE, 0, big, SLOT_BYTES, (int) n - SLOT_BYTES);
                    }
                    synchronized (receiveLock) {
                        if (generation != headerGeneration || closed.get()) {
                            dropped.incrementAndGet();
                            continue;
                        }
                        lengths[tail] = (int) n;
                        headers[tail] = header;
                        large[tail] = big;
                        count++;
                    }
                    queued = true;
                }
                Runnable l = listener;
                if (queued && l != null) {
                    try {
                        l.run();
                    } catch (RuntimeException e) {
                        LOG.get().log(Level.WARNING, device + ": receive handler failed", e);
                    }
                }
            }
        } catch (RuntimeException e) {
            if (!closed.get()) {
                LOG.get().log(Level.WARNING, device + ": " + ifname + ": receive thread stopped", e);
            }
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            Posix.write(wake, one, 8);
        }
        if (reader != Thread.currentThread()) {
            try {
                reader.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (sendBatchLock) {
            if (sendBatch != null) {
                flushBatch();
                sendBatch.close();
                sendBatch = null;
            }
        }
        tap.close();
        if (!reader.isAlive()) {
            wake.close();
        }
        synchronized (receiveLock) {
            while (count > 0) {
                large[head] = null;
                head = (head + 1) % QUEUE_FRAMES;
                count--;
            }
        }
    }

    @Override
    public String toString() {
        return "tap " + ifname;
    }
}
