package org.jbhyve.snapshot;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * An open snapshot file, checked before anything is restored from it: the header, the state
 * section's checksum, the RAM index (every run inside its region, in order, not overlapping,
 * the data within the file). A truncated, corrupt or foreign file fails in {@link #open}; memory
 * data is checked against its CRC32C as it is read, so a file damaged there fails in
 * {@link #restoreMemory}, still before any vCPU runs.
 */
public final class SnapshotImage implements AutoCloseable {
    private record Record(int version, byte[] blob) {}

    private record Region(String name, long size, int crc, List<PageRuns.Run> runs) {}

    private final Path file;
    private final FileChannel in;
    private final Map<String, Record> records = new LinkedHashMap<>();
    private final List<Region> regions = new ArrayList<>();
    private final long dataOffset;
    /** The checksum pass's buffer: small enough to stay in the CPU's cache between read and checksum. */
    private static final int CHECK_BUFFER = 256 << 10;

    private SnapshotImage(Path file, FileChannel in) throws IOException {
        this.file = file;
        this.in = in;
        long size = in.size();
        if (size < SnapshotFormat.HEADER_SIZE) {
            throw corrupt(size == 0 ? "empty" : "truncated");
        }
        SnapshotFormat.Header h = SnapshotFormat.decode(readAt(0, SnapshotFormat.HEADER_SIZE), where());
        if (h.ramOffset() + h.ramLength() > size || h.ramOffset() > size) {
            throw corrupt("truncated");
        }
        byte[] state = readAt(h.stateOffset(), (int) h.stateLength()).array();
        if (SnapshotFormat.crc(state, 0, state.length) != h.stateCrc()) {
            throw corrupt("corrupt (state checksum)");
        }
        readRecords(new StateReader(where(), state));
        StateReader index = new StateReader(where() + " memory index", readAt(h.ramOffset(), h.indexLength()).array());
        long dataBytes = readIndex(index);
        index.expectEnd();
        this.dataOffset = SnapshotWriter.align(h.ramOffset() + h.indexLength());
        long end = dataBytes == 0 ? h.ramOffset() + h.indexLength() : dataOffset + dataBytes;
        if (end != h.ramOffset() + h.ramLength()) {
            throw corrupt("corrupt (memory section length)");
        }
    }

    /** Opens and checks {@code file}; every problem is one line naming it. */
    public static SnapshotImage open(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SnapshotException("cannot open snapshot " + file + ": " + SnapshotWriter.reason(e));
        }
        try {
            return new SnapshotImage(file, channel);
        } catch (IOException | RuntimeException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // reporting the first failure
            }
            if (e instanceof SnapshotException s) {
                throw s;
            }
            throw new SnapshotException("cannot read snapshot " + file + ": "
                    + (e instanceof IOException io ? SnapshotWriter.reason(io) : e.toString()));
        }
    }

    public Path file() {
        return file;
    }

    /** The names of the saved parts, in the order they were saved. */
    public Set<String> partNames() {
        return records.keySet();
    }

    /** Whether the snapshot has a part of this name. */
    public boolean has(String name) {
        return records.containsKey(name);
    }

    /** A part's blob as a reader (for metadata the caller parses itself). */
    public StateReader reader(String name) {
        return new StateReader(name, record(name).blob());
    }

    /** Restores {@code target} from the part {@code name}: its version must be one the target reads, and all of it used. */
    public void restore(String name, Snapshottable target) {
        Record r = record(name);
        if (r.version() < 1 || r.version() > target.stateVersion()) {
            throw new SnapshotException(name + ": state version " + r.version() + " is not one this jbhyve reads (up to "
                    + target.stateVersion() + ")");
        }
        StateReader reader = new StateReader(name, r.blob());
        target.restoreState(reader, r.version());
        reader.expectEnd();
    }

    /** How memory comes back from the file. */
    public enum MemoryLoad {
        /** Copied into the target memory (which must be anonymous memory of ours, zeroed). */
        COPY,
        /**
         * The file's pages mapped over the target memory, private copy-on-write (as Firecracker
         * restores guest RAM): nothing is copied, the page cache serves the data and a page is
         * copied only when the guest writes it. The target must be private anonymous memory that
         * may be replaced (not wired, not shared with another mapping). The file must then stay
         * as it is while the VM runs; a new snapshot to the same name is written beside it and
         * renamed, which leaves the mapped one intact.
         */
        MAP
    }

    /** {@link #restoreMemory(List, PrintStream, MemoryLoad)} by copying. */
    public void restoreMemory(List<MemoryRegion> targets, PrintStream progress) {
        restoreMemory(targets, progress, r -> MemoryLoad.COPY);
    }

    /**
     * Fills {@code targets} (fresh, zeroed memory) from the RAM section, each region as
     * {@code how} says. The regions must be the saved ones by name and size; each region's data
     * is checked against its checksum before this returns (a mapped region is read once for it,
     * from the page cache, without copying).
     */
    public void restoreMemory(List<MemoryRegion> targets, PrintStream progress,
                              java.util.function.Function<MemoryRegion, MemoryLoad> how) {
        List<String> saved = regions.stream().map(r -> r.name() + " (" + r.size() + " bytes)").toList();
        List<String> wanted = targets.stream().map(r -> r.name() + " (" + r.memory().byteSize() + " bytes)").toList();
        if (!saved.equals(wanted)) {
            throw new SnapshotException(where() + ": the snapshot has memory " + saved + ", this machine " + wanted);
        }
        long total = regions.stream().flatMap(r -> r.runs().stream()).mapToLong(PageRuns.Run::length).sum();
        Progress shown = new Progress(progress, "reading", total);
        long at = dataOffset;
        try (Fd fd = open(); Arena buffers = Arena.ofConfined()) {
            adviseSequential(fd, total);
            MemorySegment buffer = buffers.allocate(CHECK_BUFFER, PageRuns.PAGE);
            for (int i = 0; i < regions.size(); i++) {
                CRC32C crc = new CRC32C();
                MemorySegment memory = targets.get(i).memory();
                boolean map = how.apply(targets.get(i)) == MemoryLoad.MAP;
                for (PageRuns.Run run : regions.get(i).runs()) {
                    if (map && run.length() % PageRuns.PAGE == 0) {
                        // Mapped, not read: the guest's first access to a page maps it from the
                        // page cache, its first write copies it. The checksum pass reads the
                        // file through a small buffer (faster than touching the mapping page by
                        // page) and leaves the data in the page cache for those accesses.
                        Posix.mmapOver(memory.asSlice(run.offset(), run.length()),
                                Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE, fd, at);
                        checksum(fd, buffer, at, run.length(), crc, shown);
                        at += run.length();
                        continue;
                    }
                    for (long done = 0; done < run.length(); done += 16 << 20) {
                        long n = Math.min(16 << 20, run.length() - done);
                        ByteBuffer into = memory.asSlice(run.offset() + done, n).asByteBuffer();
                        long position = at;
                        while (into.hasRemaining()) {
                            int r = in.read(into, position);
                            if (r < 0) {
                                throw corrupt("truncated");
                            }
                            position += r;
                        }
                        crc.update(into.flip());
                        at += n;
                        shown.advance(at - dataOffset);
                    }
                }
                if ((int) crc.getValue() != regions.get(i).crc()) {
                    throw corrupt("corrupt (memory checksum of " + regions.get(i).name() + ")");
                }
            }
        } catch (IOException e) {
            throw new SnapshotException("cannot read snapshot " + file + ": " + SnapshotWriter.reason(e));
        } catch (SysException e) {
            throw new SnapshotException("cannot read snapshot " + file + ": " + e.reason());
        }
        shown.finish();
    }

    /** Asks for larger read-ahead over the memory data; only a hint, so a file system that refuses it is fine. */
    private void adviseSequential(Fd fd, long length) {
        try {
            FileIo.fadvise(fd, dataOffset, length, FileIo.POSIX_FADV_SEQUENTIAL);
        } catch (SysException e) {
            // read-ahead stays as it is
        }
    }

    /** Reads {@code length} bytes of the file from {@code at} into the checksum, through {@code buffer}. */
    private void checksum(Fd fd, MemorySegment buffer, long at, long length, CRC32C crc, Progress shown) {
        for (long done = 0; done < length; ) {
            long n = Posix.pread(fd, buffer, Math.min(CHECK_BUFFER, length - done), at + done);
            if (n == 0) {
                throw corrupt("truncated");
            }
            crc.update(buffer.asSlice(0, n).asByteBuffer());
            done += n;
            if ((done & ((16 << 20) - 1)) == 0) {
                shown.advance(at + done - dataOffset);
            }
        }
        shown.advance(at + length - dataOffset);
    }

    private Fd open() {
        try {
            return Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new SnapshotException("cannot read snapshot " + file + ": " + e.reason());
        }
    }

    private Record record(String name) {
        Record r = records.get(name);
        if (r == null) {
            throw new SnapshotException(where() + ": the snapshot has no state for " + name);
        }
        return r;
    }

    private void readRecords(StateReader state) {
        int count = state.intIn(0, 1 << 20, "the record count");
        for (int i = 0; i < count; i++) {
            String name = new String(state.raw(state.u16()), StandardCharsets.UTF_8);
            int version = state.i32();
            byte[] blob = state.bytes();
            if (records.put(name, new Record(version, blob)) != null) {
                throw corrupt("corrupt (" + name + " twice)");
            }
        }
        state.expectEnd();
    }

    /** Reads and checks the RAM index; returns the number of data bytes it describes. */
    private long readIndex(StateReader index) {
        int count = index.intIn(0, 1024, "the memory region count");
        long data = 0;
        for (int i = 0; i < count; i++) {
            String name = new String(index.raw(index.u16()), StandardCharsets.UTF_8);
            long size = index.i64();
            int crc = index.i32();
            int runCount = index.intIn(0, Integer.MAX_VALUE, "a run count");
            if (size < 0 || (long) runCount * 16 > index.remaining()) {
                throw corrupt("corrupt (memory index)");
            }
            List<PageRuns.Run> runs = new ArrayList<>(runCount);
            long end = 0;
            for (int r = 0; r < runCount; r++) {
                long offset = index.i64();
                long length = index.i64();
                if (offset < end || length <= 0 || offset % PageRuns.PAGE != 0 || length > size - offset) {
                    throw corrupt("corrupt (memory index)");
                }
                end = offset + length;
                runs.add(new PageRuns.Run(offset, length));
                data += length;
            }
            regions.add(new Region(name, size, crc, runs));
        }
        return data;
    }

    private ByteBuffer readAt(long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (in.read(b, position + b.position()) < 0) {
                throw corrupt("truncated");
            }
        }
        return b.flip();
    }

    private String where() {
        return "snapshot " + file;
    }

    private SnapshotException corrupt(String what) {
        return new SnapshotException(where() + ": " + what);
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // nothing was written through it
        }
    }
}
