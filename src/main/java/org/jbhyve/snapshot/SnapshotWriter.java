package org.jbhyve.snapshot;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.zip.CRC32C;

/**
 * Writes a snapshot file: the state records, then the memory regions sparse (only non-zero
 * pages), straight from guest memory to the file (no copy through the Java heap, and around the
 * page cache where the file system allows: {@link MemoryDataOut}).
 *
 * <p>The file is written beside its final name with mode 0600 (it holds guest memory), flushed to
 * disk, and renamed over the final name only when complete: a crash or a full disk never leaves a
 * half-written snapshot under the name asked for.
 */
public final class SnapshotWriter {
    /** A named part of the machine and its state. */
    public record Part(String name, Snapshottable state) {}

    /** What was written: bytes in the file, of which memory data. */
    public record Written(long fileBytes, long memoryBytes) {}

    private static final int CHUNK = 16 << 20;

    private SnapshotWriter() {}

    /**
     * Saves {@code parts} (each with its {@link Snapshottable#stateVersion}) and {@code memory} to
     * {@code file}. The caller has stopped everything that could change them.
     */
    public static Written write(Path file, List<Part> parts, List<MemoryRegion> memory, PrintStream progress) {
        byte[] state = stateSection(parts);
        List<List<PageRuns.Run>> runs = new ArrayList<>();
        long dataBytes = 0;
        for (MemoryRegion r : memory) {
            List<PageRuns.Run> regionRuns = PageRuns.of(r.memory());
            runs.add(regionRuns);
            for (PageRuns.Run run : regionRuns) {
                dataBytes += run.length();
            }
        }
        ByteBuffer index = ramIndex(memory, runs, new int[memory.size()]);
        long ramOffset = align(SnapshotFormat.HEADER_SIZE + state.length);
        long dataOffset = align(ramOffset + index.remaining());
        Path temporary = file.resolveSibling("." + file.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(temporary);
            try (FileChannel out = FileChannel.open(temporary, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                writeFully(out, ByteBuffer.wrap(state), SnapshotFormat.HEADER_SIZE);
                Progress shown = new Progress(progress, "writing", dataBytes);
                long at = dataOffset;
                // The checksums are computed on another thread while this one waits for the disk
                // (here, if the memory belongs to this thread alone).
                FutureTask<int[]> checksums = new FutureTask<>(() -> checksums(memory, runs));
                Thread checksummer = Thread.ofPlatform().name("snapshot-checksum").daemon().unstarted(checksums);
                if (memory.stream().allMatch(r -> r.memory().isAccessibleBy(checksummer))) {
                    checksummer.start();
                } else {
                    checksums.run();
                }
                int[] crcs;
                try (MemoryDataOut data = MemoryDataOut.open(temporary, out,
                        dataBytes == 0 ? ramOffset + index.remaining() : dataOffset + dataBytes)) {
                    for (int i = 0; i < memory.size(); i++) {
                        for (PageRuns.Run run : runs.get(i)) {
                            for (long done = 0; done < run.length(); done += CHUNK) {
                                MemorySegment chunk = memory.get(i).memory().asSlice(run.offset() + done,
                                        Math.min(CHUNK, run.length() - done));
                                data.write(chunk, at);
                                at += chunk.byteSize();
                                shown.advance(at - dataOffset);
                            }
                        }
                    }
                } finally {
                    // Also on failure: the caller may free the memory once this returns.
                    crcs = await(checksums);
                }
                int indexLength = index.remaining();
                writeFully(out, ramIndex(memory, runs, crcs), ramOffset);
                long ramLength = dataBytes == 0 ? indexLength : at - ramOffset;
                writeFully(out, SnapshotFormat.encode(new SnapshotFormat.Header(SnapshotFormat.HEADER_SIZE,
                        state.length, ramOffset, ramLength, SnapshotFormat.crc(state, 0, state.length), indexLength)), 0);
                out.force(true);
                shown.finish();
            }
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            return new Written(Files.size(file), dataBytes);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException ignored) {
                // the first failure is the one to report
            }
            throw new SnapshotException("cannot write snapshot " + file + ": " + reason(e));
        }
    }

    /** CRC32C of each region's data, the runs in order. */
    private static int[] checksums(List<MemoryRegion> memory, List<List<PageRuns.Run>> runs) {
        int[] crcs = new int[memory.size()];
        for (int i = 0; i < memory.size(); i++) {
            CRC32C crc = new CRC32C();
            for (PageRuns.Run run : runs.get(i)) {
                for (long done = 0; done < run.length(); done += CHUNK) {
                    crc.update(memory.get(i).memory().asSlice(run.offset() + done,
                            Math.min(CHUNK, run.length() - done)).asByteBuffer());
                }
            }
            crcs[i] = (int) crc.getValue();
        }
        return crcs;
    }

    private static int[] await(FutureTask<int[]> task) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw new IllegalStateException("checksum failed", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The state section: record count, then name, version, length and blob of each part. */
    private static byte[] stateSection(List<Part> parts) {
        StateWriter out = new StateWriter();
        out.i32(parts.size());
        for (Part p : parts) {
            byte[] name = p.name().getBytes(StandardCharsets.UTF_8);
            StateWriter blob = new StateWriter();
            p.state().saveState(blob);
            out.u16(name.length).raw(name, 0, name.length).i32(p.state().stateVersion()).bytes(blob.toByteArray());
        }
        return out.toByteArray();
    }

    /**
     * The RAM section's index: u32 region count; per region: u16 name length, name, u64 size,
     * u32 CRC32C of its data, u32 run count, runs as (u64 offset, u64 length). The data of all
     * runs follows at the next 4 KiB boundary, in index order.
     */
    private static ByteBuffer ramIndex(List<MemoryRegion> memory, List<List<PageRuns.Run>> runs, int[] crcs) {
        StateWriter out = new StateWriter();
        out.i32(memory.size());
        for (int i = 0; i < memory.size(); i++) {
            byte[] name = memory.get(i).name().getBytes(StandardCharsets.UTF_8);
            out.u16(name.length).raw(name, 0, name.length).i64(memory.get(i).memory().byteSize()).i32(crcs[i])
                    .i32(runs.get(i).size());
            for (PageRuns.Run run : runs.get(i)) {
                out.i64(run.offset()).i64(run.length());
            }
        }
        return ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long align(long offset) {
        return (offset + PageRuns.PAGE - 1) & -PageRuns.PAGE;
    }

    static void writeFully(FileChannel out, ByteBuffer data, long position) throws IOException {
        while (data.hasRemaining()) {
            position += out.write(data, position);
        }
    }

    static String reason(IOException e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
