package org.jbhyve.devices.virtio.scsi;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;

/**
 * A SCSI target device (SAM-5 4.6): the logical units behind one target port, and what the
 * target itself answers when a command names a LUN it does not have.
 *
 * <p>REPORT LUNS (SPC-4 6.33, opcode 0xA0; 2 SELECT REPORT, 6-9 ALLOCATION LENGTH of at least
 * 16) is answered by the target whatever LUN it is sent to: a 4-byte LUN LIST LENGTH, 4 reserved
 * bytes, then 8 bytes per LUN in SAM-5 single-level form (LUN &lt; 256: peripheral addressing,
 * {@code 00 LL}; above: flat addressing, {@code 01LL LLLL} with the top two bits 01).
 *
 * <p>For a LUN without a logical unit (SPC-4 4.6.4): INQUIRY answers peripheral qualifier 3 /
 * type 0x1F (Linux's scan stops there), REQUEST SENSE returns LOGICAL UNIT NOT SUPPORTED as its
 * parameter data, and every other command ends in CHECK CONDITION with that sense.
 *
 * <p>LUNs are 0-16383 (what the 14-bit flat space addressing of virtio-scsi can carry).
 */
public final class ScsiTarget implements AutoCloseable {
    public static final int MAX_LUN = 16383;

    private final TreeMap<Integer, ScsiDisk> luns = new TreeMap<>();

    /** @param disks by LUN; at least one */
    public ScsiTarget(Map<Integer, ScsiDisk> disks) {
        if (disks.isEmpty()) {
            throw new IllegalArgumentException("a SCSI target needs at least one logical unit");
        }
        for (var e : disks.entrySet()) {
            if (e.getKey() < 0 || e.getKey() > MAX_LUN) {
                throw new IllegalArgumentException("LUN " + e.getKey() + " is outside 0-" + MAX_LUN);
            }
        }
        luns.putAll(disks);
    }

    /** The logical unit at {@code lun}, or null. */
    public ScsiDisk lun(int lun) {
        return luns.get(lun);
    }

    public int[] lunNumbers() {
        return luns.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    /** Where a transport may run follow-up work off its own thread (the first LUN's I/O workers). */
    public Executor executor() {
        return luns.firstEntry().getValue().backend()::submit;
    }

    /** Executes {@code c} for {@code lun}; {@code done} runs exactly once (see {@link ScsiDisk#execute}). */
    public void execute(int lun, ScsiCommand c, Runnable done) {
        ScsiDisk disk = luns.get(lun);
        if (c.opcode() == 0xA0) {
            reportLuns(c, lunNumbers());
            done.run();
        } else if (disk != null) {
            disk.execute(c, done);
        } else {
            switch (c.opcode()) {
                case 0x12 -> ScsiInquiry.executeMissing(c);
                case 0x03 -> ScsiDisk.requestSense(c, ScsiSense.LUN_NOT_SUPPORTED);
                default -> c.check(ScsiSense.LUN_NOT_SUPPORTED);
            }
            done.run();
        }
    }

    /** Logical unit reset of {@code lun} (no-op for a missing one). */
    public void reset(int lun) {
        ScsiDisk disk = luns.get(lun);
        if (disk != null) {
            disk.reset();
        }
    }

    /** Resets every logical unit (a hard reset of the target). */
    public void resetAll() {
        luns.values().forEach(ScsiDisk::reset);
    }

    /** Commands of all LUNs that failed with an unexpected exception. */
    public int failures() {
        return luns.values().stream().mapToInt(ScsiDisk::failures).sum();
    }

    /** REPORT LUNS listing {@code numbers}. */
    static void reportLuns(ScsiCommand c, int[] numbers) {
        long allocation = c.u32(6);
        int select = c.u8(2);
        if (allocation < 16) {
            c.check(ScsiSense.invalidCdbField(6));
            return;
        }
        if (select != 0x00 && select != 0x01 && select != 0x02) {
            c.check(ScsiSense.invalidCdbField(2));
            return;
        }
        int n = select == 0x01 ? 0 : numbers.length; // 1: well-known LUNs only, and there are none
        byte[] d = new byte[8 + 8 * n];
        ScsiInquiry.put32(d, 0, 8L * n);
        for (int i = 0; i < n; i++) {
            int lun = numbers[i];
            d[8 + 8 * i] = (byte) (lun < 256 ? 0 : 0x40 | lun >> 8);
            d[9 + 8 * i] = (byte) lun;
        }
        c.answer(d, allocation);
    }

    @Override
    public void close() {
        luns.values().forEach(ScsiDisk::close);
    }
}
