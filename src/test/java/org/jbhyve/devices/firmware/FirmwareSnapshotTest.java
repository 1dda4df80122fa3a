package org.jbhyve.devices.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.snapshot.StateWriter;
import org.junit.jupiter.api.Test;

/** Snapshots of the CFI flash's state machine, fw_cfg's selector and the debug port. */
class FirmwareSnapshotTest {
    private static final int BLOCK = CfiFlash.QEMU_PC_BLOCK_SIZE;

    private static CfiFlash flash(List<Boolean> modeCalls) {
        return new CfiFlash(MemorySegment.ofArray(new byte[4 * BLOCK]), BLOCK, false, modeCalls::add);
    }

    /** Block erase setup followed by a bad confirm: improper-sequence bits, read-status mode. */
    private static CfiFlash failedErase() {
        CfiFlash f = flash(new ArrayList<>());
        f.write(0, 1, 0x20);
        f.write(0, 1, 0x42);
        return f;
    }

    @Test
    void flashStatusAndModeSurviveAndTheSlotIsUnmapped() {
        List<Boolean> calls = new ArrayList<>();
        CfiFlash fresh = flash(calls);
        StateRoundTrip.assertRoundTrip(failedErase(), fresh);
        assertEquals(List.of(false), calls, "out of read-array mode: the slot goes");
        assertEquals(CfiFlash.STATUS_READY | CfiFlash.STATUS_SEQUENCE_ERROR, fresh.read(0, 1));
        fresh.write(0, 1, 0x50);
        fresh.write(0, 1, 0xFF);
        assertEquals(0, fresh.status());
        assertEquals(List.of(false, true), calls);
    }

    @Test
    void flashInArrayModeLeavesTheSlotAlone() {
        List<Boolean> calls = new ArrayList<>();
        CfiFlash fresh = flash(calls);
        StateRoundTrip.assertRoundTrip(flash(new ArrayList<>()), fresh);
        assertEquals(List.of(), calls);
    }

    @Test
    void flashDamagedBlobs() {
        CorruptBlobs.assertOnlySnapshotExceptions(() -> flash(new ArrayList<>()), StateRoundTrip.save(failedErase()));
    }

    private static FwCfg fwCfg() {
        GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, Arena.ofAuto().allocate(1 << 16, 4096))));
        return FwCfg.builder().item16(0x05, 3).file("etc/e820", new byte[] {1, 2, 3, 4, 5, 6, 7, 8}).build(memory);
    }

    private static byte[] readData(FwCfg f, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) f.read(1, 1);
        }
        return b;
    }

    /** The e820 file selected and 3 bytes read; a DMA address's high half latched. */
    private static FwCfg busyFwCfg() {
        FwCfg f = fwCfg();
        f.write(0, 2, f.selectorOf("etc/e820"));
        readData(f, 3);
        f.write(4, 4, Integer.reverseBytes(0x1));
        return f;
    }

    @Test
    void fwCfgReadsOnWhereItWas() {
        FwCfg fresh = fwCfg();
        StateRoundTrip.assertRoundTrip(busyFwCfg(), fresh);
        assertArrayEquals(new byte[] {4, 5, 6, 7, 8, 0}, readData(fresh, 6));
        StateRoundTrip.assertRoundTrip(fwCfg(), fresh);
        assertArrayEquals(new byte[] {0, 0}, readData(fresh, 2), "nothing selected yet");
    }

    @Test
    void fwCfgOffsetPastTheItemIsRefused() {
        FwCfg f = fwCfg();
        byte[] blob = new StateWriter().i32(f.selectorOf("etc/e820")).i32(9).i64(0).toByteArray();
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(f, 1, blob));
        assertEquals("snapshot state of FwCfg is not valid: fw_cfg item 0x20 has 8 bytes, the snapshot reads it at 9",
                e.getMessage());
    }

    @Test
    void fwCfgDamagedBlobs() {
        CorruptBlobs.assertOnlySnapshotExceptions(FirmwareSnapshotTest::fwCfg, StateRoundTrip.save(busyFwCfg()));
    }

    @Test
    void debugPortStateIsEmpty() {
        DebugPort port = new DebugPort(new ByteArrayOutputStream());
        port.write(0, 1, 'x');
        byte[] blob = StateRoundTrip.assertRoundTrip(port, new DebugPort(new ByteArrayOutputStream()));
        assertEquals(0, blob.length);
        assertThrows(SnapshotException.class,
                () -> StateRoundTrip.restore(new DebugPort(new ByteArrayOutputStream()), 1, new byte[1]));
    }
}
