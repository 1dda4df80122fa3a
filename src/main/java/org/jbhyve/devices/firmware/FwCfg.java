package org.jbhyve.devices.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * QEMU's firmware configuration interface ("fw_cfg"), as SeaBIOS, OVMF and kvm-unit-tests read
 * it on x86, and as bhyve offers it with {@code -l fwcfg,qemu}.
 *
 * <pre>
 * port 0x510  selector (16-bit write): picks an item and rewinds its read offset to 0
 * port 0x511  data (8-bit read): the next byte of the item; past its end, 0
 * port 0x514  DMA address, big-endian: high 32 bits at 0x514, low 32 bits at 0x518; writing the
 *             low half (or all 64 bits at 0x514) starts the transfer. An 8-byte read at 0x514
 *             returns the signature "QEMU CFG" (big-endian).
 * </pre>
 *
 * Items: 0x00 signature "QEMU", 0x01 feature bitmap (bit 0 traditional ports, bit 1 DMA),
 * 0x19 the file directory (u32 count, then per file {u32 size, u16 select, u16 reserved,
 * char name[56]}, all big-endian), files from 0x20 on; other numbered items are legacy keys
 * (RAM size, CPU counts, boot menu ...). An unknown selector selects an empty item.
 *
 * <p>A DMA transfer is described by a 16-byte big-endian {@code FWCfgDmaAccess} in guest RAM:
 * {u32 control, u32 length, u64 address}. Control bits: 0x01 error, 0x02 read, 0x04 skip,
 * 0x08 select (item in the high 16 bits), 0x10 write. The device processes it synchronously and
 * writes control back as 0 (done) or 0x01 (error): a guest address outside RAM, or a write to a
 * read-only item, fails that transfer and nothing else. Thread-safe: one lock over the state.
 *
 * <p>Snapshot state (layout 1): the selector (i32: the item key, or -1 before the first select),
 * the read offset into the selected item (i32) and the DMA address's high half latched by a write
 * at 0x514 (i64). The items themselves are rebuilt from the command line; an offset past the end
 * of the item the restored machine has under that selector is refused. There is no table loader
 * here (no {@code etc/table-loader} commands are executed by the device), so nothing else is
 * saved; the failed-transfer count is a diagnostic, not guest state.
 */
public final class FwCfg implements IoHandler, Snapshottable {
    public static final int PORT_BASE = 0x510;
    public static final int PORT_COUNT = 0x0C;
    public static final int SIGNATURE = 0x00, ID = 0x01, FILE_DIR = 0x19, FILE_FIRST = 0x20;
    public static final int FEATURE_TRADITIONAL = 1, FEATURE_DMA = 2;
    public static final int DMA_ERROR = 0x01, DMA_READ = 0x02, DMA_SKIP = 0x04, DMA_SELECT = 0x08,
            DMA_WRITE = 0x10;
    public static final long DMA_SIGNATURE = 0x51454D5520434647L; // "QEMU CFG"
    static final int NAME_LENGTH = 56;
    private static final int DATA_OFFSET = 1, DMA_HIGH = 4, DMA_LOW = 8;
    private static final int DMA_DESCRIPTOR = 16;

    private final GuestMemory memory;
    private final Map<Integer, byte[]> items;
    private final Map<String, Integer> files;
    private int selector = -1;
    private byte[] selected = new byte[0];
    private int offset;
    private long dmaHigh;
    private int failedTransfers;

    private FwCfg(GuestMemory memory, Map<Integer, byte[]> items, Map<String, Integer> files) {
        this.memory = memory;
        this.items = items;
        this.files = files;
    }

    /** Collects items and files, then builds the device with its directory. */
    public static final class Builder {
        private final Map<Integer, byte[]> items = new TreeMap<>();
        private final Map<String, byte[]> files = new TreeMap<>();

        /** A legacy numbered item (below 0x20, or an architecture key from 0x8000). */
        public Builder item(int key, byte[] content) {
            if (key == SIGNATURE || key == ID || key == FILE_DIR || (key >= FILE_FIRST && key < 0x8000)) {
                throw new IllegalArgumentException("fw_cfg key 0x" + Integer.toHexString(key) + " is reserved");
            }
            items.put(key, content.clone());
            return this;
        }

        public Builder item16(int key, int value) {
            return item(key, le(value, 2));
        }

        public Builder item32(int key, long value) {
            return item(key, le(value, 4));
        }

        public Builder item64(int key, long value) {
            return item(key, le(value, 8));
        }

        /** A named file; names are at most 55 bytes, and unique. */
        public Builder file(String name, byte[] content) {
            if (name.getBytes(StandardCharsets.US_ASCII).length >= NAME_LENGTH) {
                throw new IllegalArgumentException("fw_cfg file name too long: " + name);
            }
            if (files.putIfAbsent(name, content.clone()) != null) {
                throw new IllegalArgumentException("fw_cfg file " + name + " added twice");
            }
            return this;
        }

        /** The device; files get selectors from 0x20 in name order (QEMU sorts them the same way). */
        public FwCfg build(GuestMemory memory) {
            Map<Integer, byte[]> all = new TreeMap<>(items);
            Map<String, Integer> selectors = new TreeMap<>();
            ByteBuffer dir = ByteBuffer.allocate(4 + 64 * files.size()).order(ByteOrder.BIG_ENDIAN);
            dir.putInt(files.size());
            int select = FILE_FIRST;
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                byte[] name = f.getKey().getBytes(StandardCharsets.US_ASCII);
                dir.putInt(f.getValue().length).putShort((short) select).putShort((short) 0);
                dir.put(name).put(new byte[NAME_LENGTH - name.length]);
                all.put(select, f.getValue());
                selectors.put(f.getKey(), select++);
            }
            all.put(SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
            all.put(ID, le(FEATURE_TRADITIONAL | FEATURE_DMA, 4));
            all.put(FILE_DIR, dir.array());
            return new FwCfg(memory, all, Collections.unmodifiableMap(selectors));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The selector of a file, or -1; for tests and for tables that point at files. */
    public int selectorOf(String file) {
        return files.getOrDefault(file, -1);
    }

    /** How many DMA transfers failed (a guest mistake each); for tests and diagnostics. */
    public synchronized int failedTransfers() {
        return failedTransfers;
    }

    @Override
    public synchronized long read(long at, int size) {
        if (at == DATA_OFFSET) {
            long v = 0;
            for (int i = 0; i < size; i++) {
                v |= (long) nextByte() << (8 * i);
            }
            return v;
        }
        if (at == DMA_HIGH && size == 8) {
            return DMA_SIGNATURE;
        }
        if (at == DMA_HIGH && size == 4) {
            return DMA_SIGNATURE >>> 32;
        }
        if (at == DMA_LOW && size == 4) {
            return DMA_SIGNATURE & 0xFFFF_FFFFL;
        }
        return 0;
    }

    @Override
    public synchronized void write(long at, int size, long value) {
        if (at == 0 && size == 2) {
            select((int) value & 0xFFFF);
        } else if (at == DMA_HIGH && size == 4) {
            dmaHigh = Integer.toUnsignedLong(Integer.reverseBytes((int) value));
        } else if (at == DMA_LOW && size == 4) {
            long address = dmaHigh << 32 | Integer.toUnsignedLong(Integer.reverseBytes((int) value));
            dmaHigh = 0;
            dma(address);
        } else if (at == DMA_HIGH && size == 8) {
            dma(Long.reverseBytes(value));
        }
        // Writes through the data port are obsolete (QEMU ignores them); so are other widths.
    }

    private void select(int key) {
        selector = key;
        selected = items.getOrDefault(key, new byte[0]);
        offset = 0;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.i32(selector).i32(offset).i64(dmaHigh);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int savedSelector = in.intIn(-1, 0xFFFF, "the fw_cfg selector");
        int savedOffset = in.i32();
        long savedDmaHigh = in.i64();
        byte[] item = savedSelector < 0 ? new byte[0] : items.getOrDefault(savedSelector, new byte[0]);
        if (savedOffset < 0 || savedOffset > item.length) {
            throw in.invalid("fw_cfg item 0x" + Integer.toHexString(savedSelector) + " has " + item.length
                    + " bytes, the snapshot reads it at " + savedOffset);
        }
        if (savedDmaHigh >>> 32 != 0) {
            throw in.invalid("the DMA address's high half is 0x" + Long.toHexString(savedDmaHigh));
        }
        selector = savedSelector;
        selected = item;
        offset = savedOffset;
        dmaHigh = savedDmaHigh;
    }

    private int nextByte() {
        return offset < selected.length ? selected[offset++] & 0xFF : 0;
    }

    /** Runs the transfer whose descriptor is at {@code descriptor}; see the class comment. */
    private void dma(long descriptor) {
        if (!memory.contains(descriptor, DMA_DESCRIPTOR)) {
            failedTransfers++; // Nowhere to report it: the guest sees its descriptor unchanged.
            return;
        }
        int control = Integer.reverseBytes(memory.getInt(descriptor));
        long length = Integer.toUnsignedLong(Integer.reverseBytes(memory.getInt(descriptor + 4)));
        long address = Long.reverseBytes(memory.getLong(descriptor + 8));
        boolean ok = true;
        if ((control & DMA_SELECT) != 0) {
            select(control >>> 16);
        }
        if ((control & DMA_READ) != 0) {
            ok = copyOut(address, length);
        } else if ((control & DMA_WRITE) != 0) {
            ok = false; // every item here is read-only
        } else if ((control & DMA_SKIP) != 0) {
            offset = (int) Math.min(selected.length, offset + length);
        }
        if (!ok) {
            failedTransfers++;
        }
        memory.putInt(descriptor, Integer.reverseBytes(ok ? 0 : DMA_ERROR));
    }

    /** Copies {@code length} bytes of the item (zeros past its end) to guest RAM at {@code address}. */
    private boolean copyOut(long address, long length) {
        if (!memory.contains(address, length)) {
            return false;
        }
        try {
            int available = (int) Math.max(0, Math.min(length, selected.length - offset));
            memory.write(address, Arrays.copyOfRange(selected, offset, offset + available));
            if (length > available) {
                memory.slice(address + available, length - available).fill((byte) 0);
            }
            offset += available;
            return true;
        } catch (GuestMemoryException e) {
            return false;
        }
    }

    static byte[] le(long value, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return b;
    }
}
