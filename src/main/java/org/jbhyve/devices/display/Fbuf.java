package org.jbhyve.devices.display;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.jbhyve.backend.display.FrameSource;
import org.jbhyve.backend.display.InputSink;
import org.jbhyve.backend.display.RfbServer;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.MsiVector;
import org.jbhyve.pci.MsiCapability;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.snapshot.DeviceMemory;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * bhyve's framebuffer ({@code pci_fbuf.c}): PCI fb5d:40fb, class 03 00 00 (display, VGA), with
 *
 * <pre>
 * BAR0  32-bit memory, 128 bytes: the mode registers, little-endian, read/write by the guest
 *       +0 u32 fbsize (32 MiB)  +4 u16 width  +6 u16 height  +8 u16 depth (32)
 *       +10 u16 refresh rate    +12..+127 reserved
 * BAR1  32-bit memory, 32 MiB: the framebuffer, 32 bits per pixel 0x00RRGGBB (bytes B, G, R,
 *       unused), rows of width pixels with no padding. It is host memory mapped into the guest
 *       through a {@link FramebufferMapper} wherever the BAR is placed, like guest RAM.
 * MSI   one capability (bhyve asks for 4 messages; fbuf never interrupts)
 * </pre>
 *
 * The guest (UEFI's GOP driver, a FreeBSD or Linux driver) writes the mode it draws in;
 * width = height = 0 selects VGA mode in bhyve, which is not rendered here. The picture shown is
 * the last mode whose size is sane (1..3840 x 1..2160, fitting in fbsize); a guest writing
 * nonsense keeps the previous picture. Register accesses that run past the 128 bytes are
 * ignored (bhyve prints "fbuf: read too large"). Only one fbuf per VM (checked by the machine).
 *
 * <p>Snapshots: the registers and the mode shown go into the state blob ({@link #saveState});
 * the framebuffer is {@link DeviceMemory}, saved beside guest RAM. There is no VGA state: the
 * VGA modes and I/O ports are not emulated.
 */
public final class Fbuf extends PciFunction implements Snapshottable, DeviceMemory, AutoCloseable {
    public static final int VENDOR = 0xFB5D, DEVICE = 0x40FB, CLASS_DISPLAY_VGA = 0x030000;
    public static final int REGISTERS_SIZE = 128;
    public static final long FB_SIZE = 32L << 20;
    public static final int FBSIZE = 0, WIDTH = 4, HEIGHT = 6, DEPTH = 8, REFRESH = 10;
    private static final ValueLayout.OfInt PIXEL = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final FbufOptions options;
    private final MemorySegment framebuffer;
    private final FramebufferMapper mapper;
    private final MsiCapability msi;
    private final byte[] registers = new byte[REGISTERS_SIZE]; // guarded by this
    private int shownWidth, shownHeight;                         // guarded by this
    private long mappedAt = -1;
    private volatile RfbServer server;
    private int badAccessLogs;

    /**
     * A framebuffer over {@code framebuffer} (at least {@link #FB_SIZE} bytes, zero-filled, as
     * fresh anonymous memory is: bhyve's memset, without touching 32 MiB of pages up front) in
     * the mode {@code options} give. The RFB server starts with {@link #startServer}.
     */
    public Fbuf(FbufOptions options, MemorySegment framebuffer, FramebufferMapper mapper) {
        super(new PciConfigSpace(VENDOR, DEVICE, CLASS_DISPLAY_VGA, 0));
        if (framebuffer.byteSize() < FB_SIZE) {
            throw new IllegalArgumentException("the framebuffer needs " + FB_SIZE + " bytes");
        }
        this.options = options;
        this.framebuffer = framebuffer.asSlice(0, FB_SIZE);
        this.mapper = mapper;
        put(FBSIZE, 4, FB_SIZE);
        put(WIDTH, 2, options.width());
        put(HEIGHT, 2, options.height());
        put(DEPTH, 2, 32);
        shownWidth = options.width();
        shownHeight = options.height();
        addBar(new PciBar(0, PciBar.Kind.MEMORY32, REGISTERS_SIZE, false, registerHandler));
        addBar(new PciBar(1, PciBar.Kind.MEMORY32, FB_SIZE, false, framebufferHandler));
        msi = new MsiCapability(config, MsiVector.direct((address, data) -> { }));
    }

    public FbufOptions options() {
        return options;
    }

    /**
     * Starts the RFB server on the options' address with viewers' input going to {@code input};
     * IOException when it cannot listen.
     */
    public void startServer(InputSink input, String desktopName) throws IOException {
        server = RfbServer.start(new RfbServer.Config(options.host(), options.listenPort(), options.password(),
                desktopName), frame, input);
    }

    /** The running server (null before {@link #startServer}). */
    public RfbServer server() {
        return server;
    }

    /** Blocks until a viewer connected when {@code wait} was given; returns at once otherwise. */
    public void awaitFirstClient() throws InterruptedException {
        RfbServer s = server;
        if (options.waitForClient() && s != null) {
            s.awaitFirstClient();
        }
    }

    /** The picture for the RFB server. */
    public FrameSource frame() {
        return frame;
    }

    private final FrameSource frame = new FrameSource() {
        @Override
        public int width() {
            synchronized (Fbuf.this) {
                return shownWidth;
            }
        }

        @Override
        public int height() {
            synchronized (Fbuf.this) {
                return shownHeight;
            }
        }

        @Override
        public boolean copy(int width, int height, int[] into) {
            synchronized (Fbuf.this) {
                if (width != shownWidth || height != shownHeight) {
                    return false;
                }
            }
            MemorySegment.copy(framebuffer, PIXEL, 0, into, 0, width * height);
            return true;
        }
    };

    private final IoHandler registerHandler = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            synchronized (Fbuf.this) {
                if (offset < 0 || offset + size > REGISTERS_SIZE) {
                    tooLarge("read", offset, size);
                    return 0;
                }
                return get((int) offset, size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (Fbuf.this) {
                if (offset < 0 || offset + size > REGISTERS_SIZE) {
                    tooLarge("write", offset, size);
                    return;
                }
                put((int) offset, size, value);
                modeChanged();
            }
        }
    };

    /** BAR1 as MMIO, for when no memory slot backs it (tests, or a mapper that maps nothing). */
    private final IoHandler framebufferHandler = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            long v = 0;
            for (int i = 0; i < size && offset + i < FB_SIZE; i++) {
                v |= (framebuffer.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFFL) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(long offset, int size, long value) {
            for (int i = 0; i < size && offset + i < FB_SIZE; i++) {
                framebuffer.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (value >>> (8 * i)));
            }
        }
    };

    private void tooLarge(String what, long offset, int size) {
        if (badAccessLogs < 10) {
            badAccessLogs++;
            System.err.println("jbhyve: " + name() + ": " + what + " too large, offset " + offset + " size " + size);
        }
    }

    private long get(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (registers[offset + i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    private void put(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            registers[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Follows the registers when they describe a mode that fits; otherwise keeps the last one. */
    private void modeChanged() {
        int w = (int) get(WIDTH, 2), h = (int) get(HEIGHT, 2);
        if (w == 0 && h == 0) {
            return; // VGA mode: not rendered, the last picture stays
        }
        if (shows(w, h)) {
            shownWidth = w;
            shownHeight = h;
        }
    }

    /** Whether a {@code w} x {@code h} mode can be shown: within the largest screen and the framebuffer. */
    private static boolean shows(int w, int h) {
        return w <= FbufOptions.COLS_MAX && h <= FbufOptions.ROWS_MAX && w > 0 && h > 0 && (long) w * h * 4 <= FB_SIZE;
    }

    // ---------------------------------------------------------------- snapshot

    /** The framebuffer, saved and restored beside guest RAM (restored before {@link #restoreState}). */
    @Override
    public MemorySegment deviceMemory() {
        return framebuffer;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    /**
     * Layout (version 1), little-endian:
     * <pre>
     * PCI function state  config space (with the MSI capability), BAR addresses
     * u16 w, u16 h        the resolution the command line gave (w=, h=)
     * u64                 the framebuffer's size
     * 128 bytes           the mode registers as the guest left them
     * u16 w, u16 h        the mode shown (the last sane one the guest wrote)
     * </pre>
     */
    @Override
    public synchronized void saveState(StateWriter out) {
        saveFunctionState(out);
        out.u16(options.width()).u16(options.height()).i64(framebuffer.byteSize());
        out.raw(registers, 0, REGISTERS_SIZE).u16(shownWidth).u16(shownHeight);
    }

    /**
     * Restores a blob of {@link #saveState}: a resolution or framebuffer size other than this
     * device's is refused with one line naming both. Restoring the function state re-places
     * BAR1, which moves the framebuffer's memory mapping ({@link #barMoved}); MSI is routed
     * again as the guest programmed it.
     */
    @Override
    public synchronized void restoreState(StateReader in, int version) {
        restoreFunctionState(in);
        int width = in.u16();
        int height = in.u16();
        long size = in.i64();
        if (width != options.width() || height != options.height()) {
            throw new SnapshotException(name() + ": the command line gives " + options.width() + "x" + options.height()
                    + ", the snapshot " + width + "x" + height);
        }
        if (size != framebuffer.byteSize()) {
            throw new SnapshotException(name() + ": the framebuffer has " + framebuffer.byteSize()
                    + " bytes, the snapshot " + size);
        }
        byte[] savedRegisters = in.raw(REGISTERS_SIZE);
        int savedWidth = in.u16();
        int savedHeight = in.u16();
        if (!shows(savedWidth, savedHeight)) {
            throw in.invalid("the mode shown is " + savedWidth + "x" + savedHeight);
        }
        System.arraycopy(savedRegisters, 0, registers, 0, REGISTERS_SIZE);
        shownWidth = savedWidth;
        shownHeight = savedHeight;
        msi.restored();
    }

    @Override
    protected void configWritten(int offset, int size, long value) {
        msi.configWritten(offset, size);
    }

    /** Moves the framebuffer's memory mapping with BAR1 (bhyve's pci_fbuf_baraddr). */
    @Override
    protected void barMoved(PciBar bar, long address) {
        if (bar.index() != 1 || address == mappedAt) {
            return;
        }
        if (mappedAt != -1) {
            mapper.unmap(mappedAt);
        }
        mappedAt = address;
        if (address != -1) {
            mapper.map(framebuffer, address);
        }
    }

    /** Stops the RFB server (the framebuffer memory belongs to whoever allocated it). */
    @Override
    public void close() {
        RfbServer s = server;
        if (s != null) {
            s.close();
        }
    }
}
