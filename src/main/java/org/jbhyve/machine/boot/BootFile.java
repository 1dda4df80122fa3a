package org.jbhyve.machine.boot;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileStatus;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * A file the VM boots from (the kernel, the initrd, the boot ROM), mapped read-only: its bytes
 * reach guest memory by a copy from the mapping (or, for the ROM, by mapping it into the guest),
 * never through the Java heap, so a 200 MB initrd costs no heap and a huge file no
 * OutOfMemoryError. Only regular files qualify: a device such as {@code /dev/zero} has no size
 * to map and would be read forever, a FIFO would block the start.
 *
 * <p>Every problem is one {@link BootException} line that names the setting and the path once,
 * then the system's reason: {@code boot.kernel /x: No such file or directory},
 * {@code bootrom /dev/zero: not a regular file}.
 *
 * <p>The mapping is private to this object and released by {@link #close()}; segments taken from
 * {@link #contents()} must not be used after that.
 */
public final class BootFile implements AutoCloseable {
    private final String key;
    private final Path path;
    private final MemorySegment contents;
    private boolean closed;

    private BootFile(String key, Path path, MemorySegment contents) {
        this.key = key;
        this.path = path;
        this.contents = contents;
    }

    /**
     * Maps {@code path} read-only (a private mapping: the guest never sees later changes to the
     * file as writes it did not make).
     *
     * @param key the setting that names the file, for messages ({@code boot.kernel}, {@code bootrom})
     * @throws BootException when the file is missing, unreadable or not a regular file
     */
    public static BootFile map(String key, Path path) {
        try (Fd fd = openRegularFile(key, path)) {
            long size = FileStatus.of(fd).size();
            MemorySegment contents = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : Posix.mmap(size, Posix.PROT_READ, Posix.MAP_PRIVATE, fd, 0);
            return new BootFile(key, path, contents);
        } catch (SysException e) {
            throw new BootException(key + " " + path + ": " + e.reason());
        }
    }

    /**
     * Checks that {@code path} can be opened for reading and is a regular file (following
     * symbolic links); returns its size.
     *
     * @throws BootException {@code KEY PATH: REASON} otherwise, the reason being strerror(3)'s
     */
    public static long requireRegularFile(String key, Path path) {
        try (Fd fd = openRegularFile(key, path)) {
            return FileStatus.of(fd).size();
        } catch (SysException e) {
            throw new BootException(key + " " + path + ": " + e.reason());
        }
    }

    /** Opens without blocking (a FIFO would wait for a writer) and refuses all but regular files. */
    private static Fd openRegularFile(String key, Path path) {
        Fd fd = Posix.open(path.toString(), Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
        try {
            if (!FileStatus.of(fd).isRegularFile()) {
                throw new BootException(key + " " + path + ": not a regular file");
            }
            return fd;
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** The whole file, read-only; valid until {@link #close()}. */
    public MemorySegment contents() {
        return contents;
    }

    public long size() {
        return contents.byteSize();
    }

    public Path path() {
        return path;
    }

    /** The setting that named the file. */
    public String key() {
        return key;
    }

    @Override
    public synchronized void close() {
        if (!closed && contents.isNative()) {
            Posix.munmap(contents);
        }
        closed = true;
    }
}
