package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Terminal attributes: what the C library's {@code isatty}, {@code tcgetattr}, {@code tcsetattr}
 * and {@code cfmakeraw} do, made from the ioctls they wrap (TCGETS, TCSETS, TCSETSW).
 *
 * <p>The kernel's {@code struct termios} on x86-64 is 36 bytes (the C library's adds unused
 * room and two speed fields, which on Linux live in c_cflag):
 * <pre>
 * offset  0  tcflag_t c_iflag    input modes (ICRNL, IXON, ...)
 * offset  4  tcflag_t c_oflag    output modes (OPOST: "\n" becomes "\r\n", ...)
 * offset  8  tcflag_t c_cflag    control modes (CS8, CREAD, CLOCAL, ...)
 * offset 12  tcflag_t c_lflag    local modes (ECHO, ICANON, ISIG, ...)
 * offset 16  cc_t     c_line     line discipline
 * offset 17  cc_t     c_cc[19]   control characters (VMIN at 6, VTIME at 5)
 * </pre>
 * The struct is kept as an opaque byte image ({@link Attributes}) so what the kernel reads
 * back is exactly what it gave: restoring a terminal puts every byte back.
 */
public final class Termios {
    public static final int SIZE = 36;
    /** tcsetattr: apply now. */
    public static final int TCSANOW = 0;
    /** tcsetattr: apply after queued output is written. */
    public static final int TCSADRAIN = 1;
    /** c_cflag: ignore modem control lines (a terminal with CLOCAL never waits for carrier). */
    public static final int CLOCAL = 04000;
    /** c_oflag: output post-processing. */
    public static final int OPOST = 01;
    /** c_lflag bits. */
    public static final int ISIG = 01;
    public static final int ICANON = 02;
    public static final int ECHO = 010;

    private static final long TCGETS = 0x5401;
    /** TCSETS, TCSETSW: tcsetattr's TCSANOW and TCSADRAIN. */
    private static final long TCSETS = 0x5402;
    private static final long TCSETSW = 0x5403;
    private static final int OFFSET_CC = 17;
    private static final int VTIME = 5;
    private static final int VMIN = 6;
    /** c_iflag bits cfmakeraw clears. */
    private static final int IGNBRK = 01, BRKINT = 02, PARMRK = 010, ISTRIP = 040, INLCR = 0100, IGNCR = 0200,
            ICRNL = 0400, IXON = 02000;
    /** c_lflag bits cfmakeraw clears besides ISIG, ICANON and ECHO. */
    private static final int ECHONL = 0100, IEXTEN = 0100000;
    /** c_cflag: character size mask, 8 bits, parity. */
    private static final int CSIZE = 060, CS8 = 060, PARENB = 0400;

    private Termios() {}

    /** An immutable copy of one {@code struct termios}. */
    public static final class Attributes {
        private final byte[] image;

        private Attributes(byte[] image) {
            if (image.length != SIZE) {
                throw new IllegalArgumentException("termios image must be " + SIZE + " bytes");
            }
            this.image = image.clone();
        }

        public int iflag() {
            return field(0);
        }

        public int oflag() {
            return field(4);
        }

        public int cflag() {
            return field(8);
        }

        public int lflag() {
            return field(12);
        }

        /** A copy with {@code c_cflag} replaced. */
        public Attributes withCflag(int cflag) {
            byte[] copy = image.clone();
            MemorySegment.ofArray(copy).set(JAVA_INT_UNALIGNED, 8, cflag);
            return new Attributes(copy);
        }

        /**
         * A copy changed as {@code cfmakeraw} changes it: no echo, no line editing, no signals,
         * no input or output translation, 8-bit characters without parity, and a read returns
         * as soon as one byte is there (VMIN 1, VTIME 0).
         */
        public Attributes raw() {
            byte[] copy = image.clone();
            MemorySegment s = MemorySegment.ofArray(copy);
            s.set(JAVA_INT_UNALIGNED, 0, iflag() & ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON));
            s.set(JAVA_INT_UNALIGNED, 4, oflag() & ~OPOST);
            s.set(JAVA_INT_UNALIGNED, 8, cflag() & ~(CSIZE | PARENB) | CS8);
            s.set(JAVA_INT_UNALIGNED, 12, lflag() & ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN));
            copy[OFFSET_CC + VMIN] = 1;
            copy[OFFSET_CC + VTIME] = 0;
            return new Attributes(copy);
        }

        /** The kernel's struct, byte for byte (a copy). */
        byte[] bytes() {
            return image.clone();
        }

        private int field(long offset) {
            return MemorySegment.ofArray(image).get(JAVA_INT_UNALIGNED, offset);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Attributes a && Arrays.equals(image, a.image);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(image);
        }
    }

    /** Whether {@code fd} refers to a terminal: whether it has terminal attributes, as isatty(3) asks. */
    public static boolean isatty(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            return Posix.ioctlOrErrno(fd, TCGETS, LibC.address(arena.allocate(SIZE, 4))) == 0;
        }
    }

    /** tcgetattr: the terminal's current attributes (ENOTTY if it is not one). */
    public static Attributes get(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(SIZE, 4);
            checkTerminalCall(Posix.ioctlOrErrno(fd, TCGETS, LibC.address(s)), "tcgetattr");
            return new Attributes(s.toArray(JAVA_BYTE));
        }
    }

    /** tcsetattr with {@code when} = {@link #TCSANOW} or {@link #TCSADRAIN}. */
    public static void set(Fd fd, int when, Attributes attributes) {
        long request = switch (when) {
            case TCSANOW -> TCSETS;
            case TCSADRAIN -> TCSETSW;
            default -> throw new IllegalArgumentException("tcsetattr: when " + when);
        };
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(SIZE, 4);
            MemorySegment.copy(attributes.image, 0, s, JAVA_BYTE, 0, SIZE);
            checkTerminalCall(Posix.ioctlOrErrno(fd, request, LibC.address(s)), "tcsetattr");
        }
    }

    /** A terminal ioctl's result (or -errno) as the C library's call would report it: a SysException named {@code call}. */
    private static void checkTerminalCall(int result, String call) {
        if (result < 0) {
            throw new SysException(call, -result);
        }
    }

    /**
     * Puts {@code fd} in raw mode as bhyve does for a serial backend ({@code cfmakeraw} plus
     * {@code CLOCAL}) and returns the attributes it had, for restoring.
     */
    public static Attributes makeRaw(Fd fd) {
        Attributes original = get(fd);
        Attributes raw = original.raw();
        set(fd, TCSANOW, raw.withCflag(raw.cflag() | CLOCAL));
        return original;
    }
}
