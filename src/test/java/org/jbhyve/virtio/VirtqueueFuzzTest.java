package org.jbhyve.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.jbhyve.memory.GuestMemory;

/**
 * Hostile drivers: random descriptor tables, lengths, flags, next pointers, indirect tables and
 * avail indexes. The queue may only ever fail with {@link VirtqueueException}, and bytes around
 * guest RAM (canaries) must never change.
 */
class VirtqueueFuzzTest {
    private static final int RAM = 64 * 1024;
    private static final int SIZE = 16;

    record Desc(long addr, int len, int flags, int next) {}

    @Provide
    Arbitrary<Desc> descriptors() {
        Arbitrary<Long> addr = Arbitraries.oneOf(Arbitraries.longs().between(0, RAM + 64),
                Arbitraries.longs(), Arbitraries.of(0x8000L, 0x9000L, RAM - 16L, (long) RAM));
        Arbitrary<Integer> len = Arbitraries.oneOf(Arbitraries.integers().between(0, 512),
                Arbitraries.integers(), Arbitraries.of(16, 32, 256, -1));
        return Combinators.combine(addr, len, Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, 20)).as(Desc::new);
    }

    @Property(tries = 300)
    void hostileDescriptorsOnlyEverFailTheQueue(@ForAll("chains") List<Desc> table,
                                                @ForAll("chains") List<Desc> indirect,
                                                @ForAll List<@net.jqwik.api.constraints.IntRange(max = 20) Integer> heads,
                                                @ForAll @net.jqwik.api.constraints.IntRange(max = 65535) int availIdx) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(RAM + 8192, 4096);
            all.fill((byte) 0x5A);
            MemorySegment ram = all.asSlice(4096, RAM);
            ram.fill((byte) 0);
            GuestMemory mem = new GuestMemory(List.of(new GuestMemory.Region(0, ram)));
            long desc = 0x1000, avail = 0x2000, used = 0x3000;
            for (int i = 0; i < table.size() && i < SIZE; i++) {
                put(mem, desc + 16L * i, table.get(i));
            }
            for (int i = 0; i < indirect.size() && i < SIZE; i++) {
                put(mem, 0x8000 + 16L * i, indirect.get(i)); // indirect tables point here or at random
            }
            for (int i = 0; i < heads.size() && i < SIZE; i++) {
                mem.putShort(avail + 4 + 2L * i, (short) (int) heads.get(i));
            }
            mem.putShort(avail + 2, (short) availIdx);
            Virtqueue q = new Virtqueue(mem, 0, SIZE);
            q.setAddresses(desc, avail, used);
            q.enable(availIdx % 2 == 0);
            for (int n = 0; n < 2 * SIZE; n++) {
                try {
                    DescriptorChain c = q.pop();
                    if (c == null) {
                        break;
                    }
                    for (int i = c.readableCount(); i < c.count(); i++) {
                        c.segment(i).fill((byte) 0xEE); // the device writes every writable byte
                    }
                    for (int i = 0; i < c.readableCount(); i++) {
                        c.segment(i).get(ValueLayout.JAVA_BYTE, 0L == c.length(i) ? 0 : c.length(i) - 1);
                    }
                    q.addUsed(c.head(), (int) c.writableBytes());
                    q.needsInterrupt();
                } catch (VirtqueueException expected) {
                    break;
                } catch (IndexOutOfBoundsException zeroLength) {
                    // reading byte 0 of an empty buffer: the test's own probe, not the queue
                }
            }
            for (int i = 0; i < 4096; i++) {
                assertEquals((byte) 0x5A, all.get(ValueLayout.JAVA_BYTE, i));
                assertEquals((byte) 0x5A, all.get(ValueLayout.JAVA_BYTE, 4096 + RAM + i));
            }
        }
    }

    @Provide
    Arbitrary<List<Desc>> chains() {
        return descriptors().list().ofMaxSize(SIZE);
    }

    private static void put(GuestMemory mem, long at, Desc d) {
        mem.putLong(at, d.addr());
        mem.putInt(at + 8, d.len());
        mem.putShort(at + 12, (short) d.flags());
        mem.putShort(at + 14, (short) d.next());
    }
}
