package org.jbhyve.devices.storage.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The log pages bhyve offers (NVMe 1.4, section 5.14.1) and the counters behind them:
 *
 * <pre>
 * 01h Error Information   64 bytes, one entry (ELPE = 0); kept empty, as bhyve does
 * 02h SMART / Health     512 bytes: 0 critical warning, 1 temperature (296 K), 3 available
 *                        spare (100%), 4 spare threshold (10%), 32 data units read, 48 data
 *                        units written, 64 host reads, 80 host writes (128-bit counters),
 *                        112 power cycles (1)
 * 03h Firmware Slot      512 bytes: 0 active slot (1), 8 slot 1 revision
 * 04h Changed Namespaces 4096 bytes of namespace ids (empty: namespaces never change here)
 * </pre>
 * A data unit is 1000 512-byte units, rounded up: the remainders start at 999 so the first
 * byte written counts as one unit. Thread-safe.
 */
final class NvmeLogPages {
    static final int ERROR = 0x01;
    static final int HEALTH = 0x02;
    static final int FIRMWARE = 0x03;
    static final int CHANGED_NAMESPACES = 0x04;
    static final int TEMPERATURE_KELVIN = 296;
    /** Critical warning bit 1: a temperature threshold was crossed. */
    static final int WARNING_TEMPERATURE = 0x02;

    private final byte[] firmwareRevision;
    private long readCommands;
    private long writeCommands;
    private long readUnits;
    private long writeUnits;
    private long readRemainder = 999;
    private long writeRemainder = 999;
    private int criticalWarning;

    NvmeLogPages(byte[] firmwareRevision) {
        this.firmwareRevision = firmwareRevision.clone();
    }

    /** The size of log page {@code lid}, or -1 if this controller does not have it. */
    static int size(int lid) {
        return switch (lid) {
            case ERROR -> 64;
            case HEALTH, FIRMWARE -> 512;
            case CHANGED_NAMESPACES -> 4096;
            default -> -1;
        };
    }

    /** Counts a read or write command; successful ones add their bytes to the data units. */
    synchronized void record(boolean write, long bytes, boolean success) {
        if (write) {
            writeCommands++;
            if (success) {
                writeRemainder += bytes / 512;
                writeUnits += writeRemainder / 1000;
                writeRemainder %= 1000;
            }
        } else {
            readCommands++;
            if (success) {
                readRemainder += bytes / 512;
                readUnits += readRemainder / 1000;
                readRemainder %= 1000;
            }
        }
    }

    /** Sets or clears the temperature warning; returns the critical warning byte. */
    synchronized int temperatureWarning(boolean on) {
        criticalWarning = on ? criticalWarning | WARNING_TEMPERATURE : criticalWarning & ~WARNING_TEMPERATURE;
        return criticalWarning;
    }

    synchronized int criticalWarning() {
        return criticalWarning;
    }

    /** The current contents of log page {@code lid} (one of those {@link #size} knows). */
    synchronized byte[] page(int lid) {
        ByteBuffer b = ByteBuffer.allocate(size(lid)).order(ByteOrder.LITTLE_ENDIAN);
        switch (lid) {
            case HEALTH -> {
                b.put(0, (byte) criticalWarning);
                b.putShort(1, (short) TEMPERATURE_KELVIN);
                b.put(3, (byte) 100);
                b.put(4, (byte) 10);
                b.putLong(32, readUnits);
                b.putLong(48, writeUnits);
                b.putLong(64, readCommands);
                b.putLong(80, writeCommands);
                b.putLong(112, 1);
            }
            case FIRMWARE -> {
                b.put(0, (byte) 1);
                b.put(8, firmwareRevision, 0, Math.min(8, firmwareRevision.length));
            }
            default -> { } // error log and changed namespace list: empty
        }
        return b.array();
    }

    /**
     * Snapshot of the SMART counters: i64 read commands, write commands, data units read,
     * data units written, read remainder, write remainder (0-999); u8 critical warning.
     */
    synchronized void saveState(StateWriter out) {
        out.i64(readCommands).i64(writeCommands).i64(readUnits).i64(writeUnits)
                .i64(readRemainder).i64(writeRemainder).u8(criticalWarning);
    }

    synchronized void restoreState(StateReader in) {
        long[] v = new long[6];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.i64();
        }
        int warning = in.u8();
        if (v[4] < 0 || v[4] > 999 || v[5] < 0 || v[5] > 999) {
            throw in.invalid("a data unit remainder is outside 0..999");
        }
        readCommands = v[0];
        writeCommands = v[1];
        readUnits = v[2];
        writeUnits = v[3];
        readRemainder = v[4];
        writeRemainder = v[5];
        criticalWarning = warning;
    }
}
