package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Terminal attributes: {@code isatty}, {@code tcgetattr}, {@code tcsetattr}, {@code cfmakeraw}.
 *
 * <p>glibc's {@code struct termios} on x86-64 is 60 bytes:
 * <pre>
 * offset  0  tcflag_t c_iflag    input modes (ICRNL, IXON, ...)
 * offset  4  tcflag_t c_oflag    output modes (OPOST: "\n" becomes "\r\n", ...)
 * offset  8  tcflag_t c_cflag    control modes (CS8, CREAD, CLOCAL, ...)
 * offset 12  tcflag_t c_lflag    local modes (ECHO, ICANON, ISIG, ...)
 * offset 16  cc_t     c_line     line discipline
 * offset 17  cc_t     c_cc[32]   control characters (VMIN at 6, VTIME at 5)
 * offset 52  speed_t  c_ispeed
 * offset 56  speed_t  c_ospeed
 * </pre>
 * The struct is kept as an opaque byte image ({@link Attributes}) so what the C library reads
 * back is exactly what it wrote: restoring a terminal puts every byte back.
 */
public final class Termios {
    public static final int SIZE = 60;
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

    private static final NativeFunction ISATTY = LibC.intFunction("isatty");
    private static final NativeFunction TCGETATTR = LibC.intFunction("tcgetattr");
    private static final NativeFunction TCSETATTR = LibC.intFunction("tcsetattr");
    private static final NativeFunction CFMAKERAW = LibC.intFunction("cfmakeraw");

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

        /** A copy passed through {@code cfmakeraw}: no echo, no line editing, no signals, no OPOST. */
        public Attributes raw() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(SIZE, 4);
                MemorySegment.copy(image, 0, s, JAVA_BYTE, 0, SIZE);
                CFMAKERAW.call(LibC.address(s));
                return new Attributes(s.toArray(JAVA_BYTE));
            }
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

    /** Whether {@code fd} refers to a terminal. */
    public static boolean isatty(Fd fd) {
        return (int) ISATTY.call(fd.number()) == 1;
    }

    /** tcgetattr: the terminal's current attributes (ENOTTY if it is not one). */
    public static Attributes get(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(SIZE, 4);
            LibC.check((int) TCGETATTR.call(fd.number(), LibC.address(s)), "tcgetattr");
            return new Attributes(s.toArray(JAVA_BYTE));
        }
    }

    /** tcsetattr with {@code when} = {@link #TCSANOW} or {@link #TCSADRAIN}. */
    public static void set(Fd fd, int when, Attributes attributes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(SIZE, 4);
            MemorySegment.copy(attributes.image, 0, s, JAVA_BYTE, 0, SIZE);
            LibC.check((int) TCSETATTR.call(fd.number(), when, LibC.address(s)), "tcsetattr");
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
