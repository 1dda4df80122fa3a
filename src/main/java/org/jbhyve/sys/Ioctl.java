package org.jbhyve.sys;

/**
 * Linux ioctl request numbers, encoded as asm-generic/ioctl.h does:
 * {@code dir << 30 | size << 16 | type << 8 | nr}, with dir 0 = none, 1 = write, 2 = read.
 */
public final class Ioctl {
    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;

    private Ioctl() {}

    public static long io(int type, int nr) {
        return encode(NONE, type, nr, 0);
    }

    public static long iow(int type, int nr, long size) {
        return encode(WRITE, type, nr, size);
    }

    public static long ior(int type, int nr, long size) {
        return encode(READ, type, nr, size);
    }

    public static long iowr(int type, int nr, long size) {
        return encode(READ | WRITE, type, nr, size);
    }

    private static long encode(int dir, int type, int nr, long size) {
        if (size < 0 || size >= (1 << 14)) {
            throw new IllegalArgumentException("ioctl argument size out of range: " + size);
        }
        return ((long) dir << 30) | (size << 16) | ((long) type << 8) | nr;
    }
}
