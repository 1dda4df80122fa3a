package org.jbhyve.fuzz;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.jbhyve.backend.net.FakeNetBackend;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.backend.net.NetConfig;
import org.jbhyve.devices.firmware.FwCfg;
import org.jbhyve.devices.net.E1000;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.MemoryRegion;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.SnapshotImage;
import org.jbhyve.snapshot.SnapshotWriter;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.junit.jupiter.api.Test;

/**
 * Snapshot files ({@code bhyve -r}): the input is the whole file, opened with
 * {@link SnapshotImage}, its memory restored into two regions (64 KiB at 0 and 4 KiB at
 * 4 GiB) and its parts into a state of every field kind (numbers, strings, byte, int and long
 * arrays, a nested part), fw_cfg and an e1000. Seeds are files written by
 * {@link SnapshotWriter} from such a machine with different contents; mutations damage the
 * header, the part table, lengths, offsets, page runs and the parts' blobs.
 *
 * <p>A crash is any exception other than {@link SnapshotException}, or one whose message is not
 * one line.
 */
class SnapshotFileFuzzTest {
    private static final long LOW = 64 << 10, HIGH = 4 << 10;

    /** A part holding one of each field kind. */
    static final class Everything implements Snapshottable {
        long count;
        String label = "";
        byte[] blob = new byte[0];
        int[] ints = new int[0];
        long[] longs = new long[0];
        final Inner inner = new Inner();

        static final class Inner implements Snapshottable {
            int mode;

            @Override
            public int stateVersion() {
                return 1;
            }

            @Override
            public void saveState(StateWriter out) {
                out.u8(mode).bool(mode > 1).u16(mode * 3);
            }

            @Override
            public void restoreState(StateReader in, int version) {
                mode = in.intIn(0, 200, "mode");
                in.bool();
                in.u16();
            }
        }

        @Override
        public int stateVersion() {
            return 2;
        }

        @Override
        public void saveState(StateWriter out) {
            out.i64(count).string(label).bytes(blob).ints(ints).longs(longs).nested(inner).i32(ints.length);
        }

        @Override
        public void restoreState(StateReader in, int version) {
            count = in.i64();
            label = in.string();
            blob = in.bytes();
            ints = in.ints();
            longs = in.longs();
            in.nested(inner, "inner");
            in.i32();
            in.expectEnd();
        }
    }

    static final class Target implements Fuzz.Target {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment low = arena.allocate(LOW, 4096);
        private final MemorySegment high = arena.allocate(HIGH, 4096);
        private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, low)));
        private final FwCfg fwcfg = FwCfg.builder().item16(0x05, 2).file("etc/e820", new byte[40])
                .file("bootorder", "/pci@i0cf8/disk@0\0".getBytes(StandardCharsets.US_ASCII)).build(memory);
        private final E1000 nic = new E1000(new NetConfig(new FakeNetBackend(1),
                MacAddress.parse("00:a0:98:01:02:03"), OptionalInt.empty()), memory, new PciInterrupts() {
                    @Override
                    public IrqLine intx() {
                        return level -> { };
                    }

                    @Override
                    public void sendMsi(long address, int data) {
                    }
                });
        private final Everything everything = new Everything();
        private final Path file;
        private final List<byte[]> seeds = new ArrayList<>();

        Target() throws IOException {
            file = Fuzz.tempFile(".snap");
            for (int variant = 0; variant < 3; variant++) {
                Everything e = new Everything();
                e.count = 41 + variant;
                e.label = "com" + variant;
                e.blob = new byte[variant * 5];
                e.ints = new int[] {variant, -1, 7};
                e.longs = new long[] {1, 2, 3};
                e.inner.mode = variant;
                low.fill((byte) 0);
                high.fill((byte) 0);
                low.set(ValueLayout.JAVA_LONG, 8192L * variant, 0x1122334455667788L);
                low.set(ValueLayout.JAVA_BYTE, LOW - 1, (byte) 7);
                high.set(ValueLayout.JAVA_INT, 0, 99 + variant);
                fwcfg.write(0, 2, variant == 0 ? FwCfg.SIGNATURE : fwcfg.selectorOf("bootorder"));
                fwcfg.read(1, 1 + variant);
                SnapshotWriter.write(file, List.of(new SnapshotWriter.Part("everything", e),
                                new SnapshotWriter.Part("fw_cfg", fwcfg), new SnapshotWriter.Part("e1000@0:2:0", nic)),
                        regions(), null);
                seeds.add(Files.readAllBytes(file));
            }
        }

        private List<MemoryRegion> regions() {
            return List.of(new MemoryRegion("ram@0x0", low), new MemoryRegion("ram@0x100000000", high));
        }

        @Override
        public List<byte[]> seeds() {
            return seeds;
        }

        @Override
        public int maxRandomLength() {
            return 4096;
        }

        @Override
        public void run(byte[] input) throws IOException {
            Files.write(file, input);
            try (SnapshotImage image = SnapshotImage.open(file)) {
                image.restoreMemory(regions(), null);
                for (String name : List.of("everything", "fw_cfg", "e1000@0:2:0")) {
                    if (image.has(name)) {
                        image.restore(name, switch (name) {
                            case "everything" -> everything;
                            case "fw_cfg" -> fwcfg;
                            default -> nic;
                        });
                    }
                }
            } catch (SnapshotException e) {
                if (e.getMessage() == null || e.getMessage().contains("\n")) {
                    throw new AssertionError("not a one-line error: " + e.getMessage(), e);
                }
            }
        }

        @Override
        public void close() throws IOException {
            nic.close();
            Files.deleteIfExists(file);
            arena.close();
        }
    }

    /** Found by this target: a region name with a line break from the file made a two-line error. */
    @Test
    void namesFromTheFileCannotBreakTheErrorLine() throws Exception {
        Path file = Fuzz.tempFile(".snap");
        try (Arena arena = Arena.ofConfined()) {
            SnapshotWriter.write(file, List.of(), List.of(new MemoryRegion("ram\n@0x0", arena.allocate(4096, 4096))), null);
            try (SnapshotImage image = SnapshotImage.open(file)) {
                SnapshotException e = org.junit.jupiter.api.Assertions.assertThrows(SnapshotException.class,
                        () -> image.restoreMemory(List.of(new MemoryRegion("ram@0x0", arena.allocate(4096, 4096))), null));
                org.junit.jupiter.api.Assertions.assertFalse(e.getMessage().contains("\n"), e.getMessage());
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("ram @0x0"), e.getMessage());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void damagedSnapshotsFailWithOneLine() throws Exception {
        Fuzz.check("snapshot files", 2000, new Target());
    }
}
