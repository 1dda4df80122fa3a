package org.jbhyve.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {
    @TempDir
    Path dir;

    /** A part holding a few values, as a device would. */
    static final class Counter implements Snapshottable {
        long count;
        String label = "";

        @Override
        public int stateVersion() {
            return 2;
        }

        @Override
        public void saveState(StateWriter out) {
            out.i64(count).string(label);
        }

        @Override
        public void restoreState(StateReader in, int version) {
            count = in.i64();
            label = in.string();
        }
    }

    private Path save(Arena arena, MemorySegment low, MemorySegment high) {
        Counter c = new Counter();
        c.count = 41;
        c.label = "com1";
        Path file = dir.resolve("vm.snap");
        SnapshotWriter.write(file, List.of(new SnapshotWriter.Part("uart@com1", c)),
                List.of(new MemoryRegion("ram@0x0", low), new MemoryRegion("ram@0x100000000", high)), null);
        return file;
    }

    @Test
    void stateAndSparseMemoryComeBackAndTheFileIsPrivate() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment low = arena.allocate(1 << 20, 4096);
            MemorySegment high = arena.allocate(64 << 10, 4096);
            low.set(ValueLayout.JAVA_LONG, 8192, 0x1122334455667788L);
            low.set(ValueLayout.JAVA_BYTE, (1 << 20) - 1, (byte) 7);
            high.set(ValueLayout.JAVA_INT, 0, 99);
            Path file = save(arena, low, high);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertTrue(Files.size(file) < 64 << 10, "zero pages are not written: " + Files.size(file));

            MemorySegment low2 = arena.allocate(1 << 20, 4096);
            MemorySegment high2 = arena.allocate(64 << 10, 4096);
            Counter back = new Counter();
            try (SnapshotImage image = SnapshotImage.open(file)) {
                assertEquals(List.of("uart@com1"), List.copyOf(image.partNames()));
                image.restoreMemory(List.of(new MemoryRegion("ram@0x0", low2), new MemoryRegion("ram@0x100000000", high2)), null);
                image.restore("uart@com1", back);
            }
            assertEquals(41, back.count);
            assertEquals("com1", back.label);
            assertArrayEquals(low.toArray(ValueLayout.JAVA_BYTE), low2.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(high.toArray(ValueLayout.JAVA_BYTE), high2.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void memoryThatIsNotPageAlignedGoesThroughThePageCacheAndComesBack() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            // Device memory may start anywhere and end inside a page: such pieces cannot be
            // written around the page cache, the rest of the file still is.
            MemorySegment odd = arena.allocate(3 * 4096 + 8, 4096).asSlice(8, 2 * 4096 + 100);
            odd.fill((byte) 0x3C);
            MemorySegment aligned = arena.allocate(4 * 4096, 4096);
            aligned.set(ValueLayout.JAVA_LONG, 4096, 5L);
            Path file = dir.resolve("odd.snap");
            SnapshotWriter.write(file, List.of(), List.of(new MemoryRegion("fbuf", odd), new MemoryRegion("ram@0x0", aligned)), null);
            MemorySegment odd2 = arena.allocate(odd.byteSize(), 8);
            MemorySegment aligned2 = arena.allocate(aligned.byteSize(), 4096);
            try (SnapshotImage image = SnapshotImage.open(file)) {
                image.restoreMemory(List.of(new MemoryRegion("fbuf", odd2), new MemoryRegion("ram@0x0", aligned2)), null);
            }
            assertEquals(-1, odd.mismatch(odd2));
            assertEquals(-1, aligned.mismatch(aligned2));
        }
    }

    @Test
    void memoryMappedFromTheFileIsTheSavedMemoryAndPrivateToTheGuest() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment low = arena.allocate(1 << 20, 4096);
            low.set(ValueLayout.JAVA_LONG, 8192, 0x1122334455667788L);
            low.set(ValueLayout.JAVA_LONG, 65536, -2L);
            Path file = save(arena, low, arena.allocate(64 << 10, 4096));
            MemorySegment target = org.jbhyve.sys.Posix.mmap(1 << 20, org.jbhyve.sys.Posix.PROT_READ
                    | org.jbhyve.sys.Posix.PROT_WRITE, org.jbhyve.sys.Posix.MAP_PRIVATE
                    | org.jbhyve.sys.Posix.MAP_ANONYMOUS, null, 0);
            try (SnapshotImage image = SnapshotImage.open(file)) {
                image.restoreMemory(List.of(new MemoryRegion("ram@0x0", target),
                        new MemoryRegion("ram@0x100000000", arena.allocate(64 << 10, 4096))), null,
                        r -> r.memory() == target ? SnapshotImage.MemoryLoad.MAP : SnapshotImage.MemoryLoad.COPY);
                assertArrayEquals(low.toArray(ValueLayout.JAVA_BYTE), target.toArray(ValueLayout.JAVA_BYTE));
                target.set(ValueLayout.JAVA_LONG, 8192, 7L); // the guest writes: its own copy
            } finally {
                org.jbhyve.sys.Posix.munmap(target);
            }
            try (SnapshotImage again = SnapshotImage.open(file)) {
                MemorySegment copy = arena.allocate(1 << 20, 4096);
                again.restoreMemory(List.of(new MemoryRegion("ram@0x0", copy),
                        new MemoryRegion("ram@0x100000000", arena.allocate(64 << 10, 4096))), null);
                assertEquals(0x1122334455667788L, copy.get(ValueLayout.JAVA_LONG, 8192), "the file is untouched");
            }
        }
    }

    @Test
    void aTruncatedOrDamagedFileIsOneLineBeforeAnythingIsRestored() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment low = arena.allocate(64 << 10, 4096);
            low.fill((byte) 0x5A);
            Path file = save(arena, low, arena.allocate(4096, 4096));
            byte[] good = Files.readAllBytes(file);
            Path bad = dir.resolve("bad.snap");
            for (int length = 0; length < good.length; length += length < 256 ? 1 : 997) {
                Files.write(bad, java.util.Arrays.copyOf(good, length));
                assertFailsOrRestoresExactly(bad, arena, low);
            }
            for (int at = 0; at < good.length; at += 61) {
                byte[] flipped = good.clone();
                flipped[at] ^= 0x40;
                Files.write(bad, flipped);
                assertFailsOrRestoresExactly(bad, arena, low);
            }
        }
    }

    /**
     * A damaged file either fails with one line, or (a flip in alignment padding) restores exactly
     * what was saved: never something else.
     */
    private static void assertFailsOrRestoresExactly(Path bad, Arena arena, MemorySegment savedLow) {
        MemorySegment low = arena.allocate(64 << 10, 4096);
        Counter back = new Counter();
        try (SnapshotImage image = SnapshotImage.open(bad)) {
            image.restoreMemory(List.of(new MemoryRegion("ram@0x0", low),
                    new MemoryRegion("ram@0x100000000", arena.allocate(4096, 4096))), null);
            image.restore("uart@com1", back);
        } catch (SnapshotException e) {
            assertTrue(e.getMessage().contains(bad.toString()) || e.getMessage().contains("uart@com1"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        assertEquals(41, back.count);
        assertEquals("com1", back.label);
        assertArrayEquals(savedLow.toArray(ValueLayout.JAVA_BYTE), low.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aMissingFileOrAMachineOfAnotherShapeIsNamed() throws Exception {
        SnapshotException missing = assertThrows(SnapshotException.class, () -> SnapshotImage.open(dir.resolve("none")));
        assertEquals("cannot open snapshot " + dir.resolve("none") + ": No such file or directory", missing.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            Path file = save(arena, arena.allocate(8192, 4096), arena.allocate(4096, 4096));
            try (SnapshotImage image = SnapshotImage.open(file)) {
                SnapshotException shape = assertThrows(SnapshotException.class,
                        () -> image.restoreMemory(List.of(new MemoryRegion("ram@0x0", arena.allocate(4096, 4096))), null));
                assertTrue(shape.getMessage().contains("ram@0x0 (8192 bytes)"), shape.getMessage());
                SnapshotException newer = assertThrows(SnapshotException.class, () -> image.restore("uart@com1",
                        new Snapshottable() {
                            public int stateVersion() {
                                return 1;
                            }

                            public void saveState(StateWriter out) {}

                            public void restoreState(StateReader in, int version) {}
                        }));
                assertEquals("uart@com1: state version 2 is not one this jbhyve reads (up to 1)", newer.getMessage());
            }
        }
    }
}
