package org.jbhyve.snapshot;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * Where a snapshot's memory data goes: straight from guest memory to the disk with O_DIRECT
 * when the file system takes it (no copy into the page cache, and the final flush has little
 * left to write), through the page cache otherwise (tmpfs, and any piece that is not aligned to
 * pages in memory and in the file). The file's whole length is reserved first (fallocate), so a
 * full disk fails before any data is written and the data lands in contiguous blocks.
 *
 * <p>Memory written here is not left in the page cache: a restore soon after reads it from the
 * disk, as it would after a reboot.
 */
final class MemoryDataOut implements AutoCloseable {
    private static final int EOPNOTSUPP = 95;

    private final FileChannel buffered;
    private final Fd fd;
    private boolean direct;

    private MemoryDataOut(FileChannel buffered, Fd fd, boolean direct) {
        this.buffered = buffered;
        this.fd = fd;
        this.direct = direct;
    }

    /** Opens {@code file} (already created, open as {@code buffered}) and reserves {@code length} bytes. */
    static MemoryDataOut open(Path file, FileChannel buffered, long length) throws IOException {
        Fd fd = null;
        try {
            boolean direct = true;
            try {
                fd = Posix.open(file.toString(), Posix.O_WRONLY | Posix.O_DIRECT | Posix.O_CLOEXEC, 0);
            } catch (SysException e) {
                if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
                fd = Posix.open(file.toString(), Posix.O_WRONLY | Posix.O_CLOEXEC, 0);
                direct = false;
            }
            try {
                FileIo.fallocate(fd, 0, 0, length);
            } catch (SysException e) {
                if (e.errno() != EOPNOTSUPP) {
                    throw e;
                }
            }
            return new MemoryDataOut(buffered, fd, direct);
        } catch (SysException e) {
            if (fd != null) {
                fd.close();
            }
            throw new IOException(e.reason());
        }
    }

    /** Writes all of {@code data} at {@code position}. */
    void write(MemorySegment data, long position) throws IOException {
        long length = data.byteSize();
        boolean aligned = (data.address() | position | length) % PageRuns.PAGE == 0;
        if (!direct || !aligned) {
            SnapshotWriter.writeFully(buffered, data.asByteBuffer(), position);
            return;
        }
        try {
            for (long done = 0; done < length; ) {
                long n = Posix.pwrite(fd, data.asSlice(done), length - done, position + done);
                if (n == 0) {
                    throw new IOException("short write");
                }
                done += n;
            }
        } catch (SysException e) {
            if (e.errno() != Errno.EINVAL) {
                throw new IOException(e.reason());
            }
            // The file system took O_DIRECT at open but not this write: the page cache it is.
            direct = false;
            write(data, position);
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
