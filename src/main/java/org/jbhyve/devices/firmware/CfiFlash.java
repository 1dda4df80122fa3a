package org.jbhyve.devices.firmware;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * A byte-wide CFI parallel NOR flash with the Intel command set, as QEMU's pflash_cfi01 models it
 * for the PC's {@code system.flash1}: the UEFI variable store OVMF keeps in {@code OVMF_VARS.fd}.
 *
 * <p>The chip is normally in <em>read-array</em> mode: reads return its contents, so the
 * integrator maps them as a read-only KVM memory slot and reads never leave the guest. Writes are
 * commands (the low byte of the value; the address only matters where noted):
 * <pre>
 * 0xFF, 0x00, 0xF0  read array (0xF0 is AMD's reset, which QEMU accepts too)
 * 0x10, 0x40        byte program: the next write stores its value (all its bytes) at its address
 * 0x20, then 0xD0   block erase: the confirm write's block becomes all 0xFF; 0xFF aborts
 * 0x50              clear status: status becomes 0x00, chip back in read-array mode
 * 0x60, then 0xD0/0x01/0x2F  block unlock/lock/lock-down: accepted, blocks stay unlocked
 * 0x70              read status: reads return the status register
 * 0x90              read identifier: offset 0 manufacturer, 1 device, others 0 (lock status)
 * 0x98              CFI query: reads return {@link CfiQueryTable} at offset &amp; 0xFF
 * </pre>
 * After program, erase or (un)lock the chip stays in read-status mode until the next command. Status
 * bits: 0x80 ready (the state machine is idle: always, operations are instant), 0x20 erase error,
 * 0x10 program error; 0x30 together means "improper command sequence". Error bits stay until clear
 * status. Unlike Intel parts, clear status also drops the ready bit, as QEMU does: OVMF's
 * QemuFlashDetected writes 0x50 then 0x70 at one byte and takes a status of exactly 0x00 as "this
 * is flash" (it takes the byte's array value back as "ROM" and 0x70 back as "RAM").
 *
 * <p>OVMF (QemuFlash.c) uses only that probe, 0x10 + byte per byte written, 0x20 + 0xD0 at a block
 * start, and 0xFF after the last byte of a write; after an erase the chip reads status until
 * OVMF's next command, in QEMU as here. Everything else follows pflash_cfi01 (a byte that
 * is not a command is dropped and the chip goes to, or stays in, array mode) except where a guest
 * could not tell a failure: QEMU returns to array mode when a block erase or (un)lock setup is
 * followed by anything but its confirm or 0xFF; here that sets the improper-sequence bits and
 * leaves the chip in read-status mode, so the next read shows them.
 * Unlike QEMU, the erased block is the one the confirm write addresses (Intel's rule; QEMU erases
 * at the setup write), and any write after 0x98 is a new command (QEMU ignores all but 0xFF).
 * A status, identifier or query read wider than a byte carries each byte address's answer in its
 * byte lane, as QEMU does when it knows the device is x8 (OVMF reads single bytes).
 *
 * <p>What the guest cannot do: write or erase outside the contents (that access fails with the
 * program or erase error bit), change a write-protected chip (same bits, nothing changes), or
 * make the device throw. Commands written outside the contents are dropped with the
 * improper-sequence bits set; reads outside return all ones.
 *
 * <p>Snapshot state (layout 1): the command state machine's mode (one byte: 0 read array,
 * 1 read status, 2 read identifier, 3 CFI query, 4 program setup, 5 erase setup, 6 lock setup)
 * and the status register (one byte). The contents are not in the snapshot: they are a host
 * resource, the VARS file mapped shared, in which every program and erase already is; a restore
 * uses the file named on the command line as it is (as bhyve and QEMU do with their variable
 * stores). Restoring a mode other than read array tells {@link RomMode} to unmap the slot, as the
 * command that entered it did.
 */
public final class CfiFlash implements IoHandler, Snapshottable {
    /** Erase block size QEMU gives the PC's system flash (pc_sysfw.c, FLASH_SECTOR_SIZE). */
    public static final int QEMU_PC_BLOCK_SIZE = 4096;
    /** Identifier codes QEMU's PC flash answers (its id0..id3 properties are left 0). */
    public static final int MANUFACTURER_ID = 0x00;
    public static final int DEVICE_ID = 0x00;

    public static final int STATUS_READY = 0x80;
    public static final int STATUS_ERASE_ERROR = 0x20;
    public static final int STATUS_PROGRAM_ERROR = 0x10;
    public static final int STATUS_SEQUENCE_ERROR = STATUS_ERASE_ERROR | STATUS_PROGRAM_ERROR;

    /**
     * How the integrator shows the contents to the guest. {@code arrayMode(true)}: map them as a
     * read-only memory slot (reads stay in the guest, writes still come to
     * {@link CfiFlash#write}); {@code arrayMode(false)}: remove that slot so every read comes to
     * {@link CfiFlash#read}. Called on the accessing vCPU's thread, with the device's lock held,
     * only when the mode actually changes, and before the access that changed it returns; the
     * callee must finish the switch before returning and must not call back into the device.
     */
    @FunctionalInterface
    public interface RomMode {
        void arrayMode(boolean direct);
    }

    private enum Mode { ARRAY, STATUS, IDENTIFIER, QUERY, PROGRAM_SETUP, ERASE_SETUP, LOCK_SETUP }

    private static final LazyLogger LOG = new LazyLogger(CfiFlash.class);

    private final MemorySegment contents;
    private final int blockSize;
    private final boolean writeProtected;
    private final RomMode romMode;
    private final byte[] query;
    private Mode mode = Mode.ARRAY;
    private int status = STATUS_READY;

    /**
     * A flash over {@code contents}, starting in read-array mode with status 0x80 (the integrator
     * maps the slot itself at start; the callback is not called for it).
     *
     * @param contents       the chip's bytes, e.g. the VARS file mapped MAP_SHARED so programs
     *                       and erases reach the file; its size must be a non-zero multiple of
     *                       {@code blockSize} and at most 65536 blocks
     * @param blockSize      erase block size: a power of two from 256 bytes to 8 MiB
     *                       ({@link #QEMU_PC_BLOCK_SIZE} for OVMF)
     * @param writeProtected program and erase fail and change nothing (always so when
     *                       {@code contents} is read-only)
     * @param romMode        told when the chip enters or leaves read-array mode
     * @throws IllegalArgumentException if the geometry is not one a flash can have
     */
    public CfiFlash(MemorySegment contents, int blockSize, boolean writeProtected, RomMode romMode) {
        if (blockSize < 256 || blockSize > (8 << 20) || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("flash block size must be a power of two from 256 bytes to 8 MiB: "
                    + blockSize);
        }
        long size = contents.byteSize();
        if (size == 0 || size % blockSize != 0 || size / blockSize > 0x10000) {
            throw new IllegalArgumentException("flash size must be a non-zero multiple of " + blockSize
                    + " bytes and at most 65536 blocks: " + size);
        }
        this.contents = contents;
        this.blockSize = blockSize;
        this.writeProtected = writeProtected || contents.isReadOnly();
        this.romMode = Objects.requireNonNull(romMode, "romMode");
        this.query = CfiQueryTable.build((int) (size / blockSize), blockSize);
    }

    /** Bytes of flash: the length of the MMIO range to register. */
    public long size() {
        return contents.byteSize();
    }

    public int blockSize() {
        return blockSize;
    }

    public boolean writeProtected() {
        return writeProtected;
    }

    /** Whether the chip is in read-array mode (the slot should be mapped). */
    public synchronized boolean inArrayMode() {
        return mode == Mode.ARRAY;
    }

    /** The status register as the guest would read it. */
    public synchronized int status() {
        return status;
    }

    /** System reset: read-array mode, status 0x80 (pflash_cfi01_system_reset); calls back if the mode changes. */
    public synchronized void reset() {
        boolean wasArray = mode == Mode.ARRAY;
        mode = Mode.ARRAY;
        status = STATUS_READY;
        announce(wasArray);
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u8(mode.ordinal()).u8(status);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        int savedMode = in.u8();
        if (savedMode >= Mode.values().length) {
            throw in.invalid("flash mode " + savedMode + " is not one of the " + Mode.values().length);
        }
        int savedStatus = in.u8();
        boolean wasArray = mode == Mode.ARRAY;
        mode = Mode.values()[savedMode];
        status = savedStatus;
        announce(wasArray);
    }

    /** Contents, status, identifier or query bytes by mode; all ones outside the contents. */
    @Override
    public synchronized long read(long offset, int size) {
        if (!inside(offset, size)) {
            return IoHandler.mask(size);
        }
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (readByte(offset + i) & 0xFFL) << (8 * i);
        }
        return v;
    }

    private int readByte(long address) {
        return switch (mode) {
            case ARRAY -> contents.get(ValueLayout.JAVA_BYTE, address) & 0xFF;
            case IDENTIFIER -> switch ((int) (address & 0xFF)) {
                case 0 -> MANUFACTURER_ID;
                case 1 -> DEVICE_ID;
                default -> 0;
            };
            case QUERY -> (address & 0xFF) < query.length ? query[(int) (address & 0xFF)] & 0xFF : 0;
            case STATUS, PROGRAM_SETUP, ERASE_SETUP, LOCK_SETUP -> status;
        };
    }

    /** One write cycle: a command, a command's second cycle, or the data of a byte program. */
    @Override
    public synchronized void write(long offset, int size, long value) {
        boolean wasArray = mode == Mode.ARRAY;
        boolean inside = inside(offset, size);
        int cmd = (int) (value & 0xFF);
        switch (mode) {
            case PROGRAM_SETUP -> program(offset, size, value, inside);
            case ERASE_SETUP -> {
                if (cmd == 0xD0) {
                    erase(offset, inside);
                } else {
                    secondCycle(cmd, "block erase");
                }
            }
            case LOCK_SETUP -> {
                if (cmd == 0xD0 || cmd == 0x01 || cmd == 0x2F) {
                    status |= STATUS_READY;
                    mode = Mode.STATUS;
                } else {
                    secondCycle(cmd, "block lock");
                }
            }
            default -> {
                if (inside) {
                    command(cmd);
                } else {
                    status |= STATUS_SEQUENCE_ERROR;
                    LOG.get().fine(() -> "flash command 0x" + Integer.toHexString(cmd) + " outside the chip at 0x"
                            + Long.toHexString(offset));
                }
            }
        }
        announce(wasArray);
    }

    /** A first write cycle, in any mode that is not waiting for a second one. */
    private void command(int cmd) {
        switch (cmd) {
            case 0xFF, 0x00, 0xF0 -> mode = Mode.ARRAY;
            case 0x10, 0x40 -> mode = Mode.PROGRAM_SETUP;
            case 0x20 -> mode = Mode.ERASE_SETUP;
            case 0x50 -> {
                status = 0;
                mode = Mode.ARRAY;
            }
            case 0x60 -> mode = Mode.LOCK_SETUP;
            case 0x70 -> mode = Mode.STATUS;
            case 0x90 -> mode = Mode.IDENTIFIER;
            case 0x98 -> mode = Mode.QUERY;
            default -> {
                LOG.get().fine(() -> "flash write 0x" + Integer.toHexString(cmd) + " is not a command; read array");
                mode = Mode.ARRAY;
            }
        }
    }

    /** A setup cycle followed by something other than its confirm: 0xFF aborts, anything else is an error. */
    private void secondCycle(int cmd, String operation) {
        if (cmd == 0xFF) {
            mode = Mode.ARRAY;
        } else {
            LOG.get().fine(() -> operation + " setup followed by 0x" + Integer.toHexString(cmd) + ": improper sequence");
            status |= STATUS_SEQUENCE_ERROR | STATUS_READY;
            mode = Mode.STATUS;
        }
    }

    private void program(long offset, int size, long value, boolean inside) {
        if (inside && !writeProtected) {
            for (int i = 0; i < size; i++) {
                contents.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (value >>> (8 * i)));
            }
        } else {
            status |= STATUS_PROGRAM_ERROR;
        }
        status |= STATUS_READY;
        mode = Mode.STATUS;
    }

    private void erase(long offset, boolean inside) {
        if (inside && !writeProtected) {
            contents.asSlice(offset & -blockSize, blockSize).fill((byte) 0xFF);
        } else {
            status |= STATUS_ERASE_ERROR;
        }
        status |= STATUS_READY;
        mode = Mode.STATUS;
    }

    private boolean inside(long offset, int size) {
        return size >= 1 && size <= 8 && offset >= 0 && offset <= contents.byteSize() - size;
    }

    /** Tells the integrator about a change of read-array mode, and only about a change. */
    private void announce(boolean wasArray) {
        boolean isArray = mode == Mode.ARRAY;
        if (isArray != wasArray) {
            romMode.arrayMode(isArray);
        }
    }
}
