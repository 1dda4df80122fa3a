package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;

/**
 * A vCPU's binary statistics fd (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst 4.133).
 *
 * <pre>
 * header: u32 flags, name_size, num_desc, id_offset, desc_offset, data_offset
 * desc  : u32 flags; s16 exponent; u16 size; u32 offset; u32 bucket_size; char name[name_size]
 * data  : u64 values at data_offset + desc.offset, desc.size of them
 * </pre>
 * The VMM reads the instantaneous {@code blocking} stat (1 while the vCPU sleeps in HLT inside
 * KVM) to notice a guest that halted with interrupts off, which the in-kernel LAPIC never
 * reports to user space; bhyvectl's {@code --get-stats} prints them all. Reads are serialised
 * (one value buffer), so the VM's idle watch and the control thread may share an instance.
 */
public final class VcpuStats implements AutoCloseable {
    private final Fd fd;
    private final Map<String, Long> offsets = new LinkedHashMap<>();
    private final MemorySegment value = Arena.ofAuto().allocate(8, 8);

    VcpuStats(Fd fd) {
        this.fd = fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(24, 8);
            Posix.pread(fd, header, 24, 0);
            int nameSize = header.get(JAVA_INT, 4);
            int count = header.get(JAVA_INT, 8);
            long descOffset = Integer.toUnsignedLong(header.get(JAVA_INT, 16));
            long dataOffset = Integer.toUnsignedLong(header.get(JAVA_INT, 20));
            long descSize = 16L + nameSize;
            MemorySegment descs = arena.allocate(descSize * count, 8);
            Posix.pread(fd, descs, descs.byteSize(), descOffset);
            // Parsed from a heap copy: byte by byte through the segment (getString's strlen),
            // forty-odd names cost a start more than the copy.
            byte[] table = descs.toArray(JAVA_BYTE);
            ByteBuffer fields = ByteBuffer.wrap(table).order(ByteOrder.nativeOrder());
            for (int i = 0; i < count; i++) {
                int o = Math.toIntExact(i * descSize);
                int size = Short.toUnsignedInt(fields.getShort(o + 6));
                long dataAt = dataOffset + Integer.toUnsignedLong(fields.getInt(o + 8));
                if (size == 1) {
                    offsets.put(cString(table, o + 16, nameSize), dataAt);
                }
            }
        }
    }

    /** The NUL-terminated ASCII string at {@code from}, at most {@code limit} bytes long. */
    private static String cString(byte[] bytes, int from, int limit) {
        int length = 0;
        while (length < limit && bytes[from + length] != 0) {
            length++;
        }
        return new String(bytes, from, length, StandardCharsets.US_ASCII);
    }

    /** Whether the stat exists on this kernel. */
    public boolean has(String name) {
        return offsets.containsKey(name);
    }

    /** The single-valued stats this kernel reports, in its descriptor order. */
    public List<String> names() {
        return List.copyOf(offsets.keySet());
    }

    /** Current value of a single-valued stat. */
    public synchronized long read(String name) {
        Long at = offsets.get(name);
        if (at == null) {
            throw new IllegalArgumentException("no vCPU stat " + name);
        }
        Posix.pread(fd, value, 8, at);
        return value.get(JAVA_LONG, 0);
    }

    @Override
    public void close() {
        fd.close();
    }
}
