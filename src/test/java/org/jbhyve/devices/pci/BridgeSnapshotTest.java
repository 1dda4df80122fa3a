package org.jbhyve.devices.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.Test;

/** The bridges' snapshot is their config space. */
class BridgeSnapshotTest {
    private static final int LATENCY_TIMER = 0x0D;

    private static HostBridge busyHostBridge() {
        HostBridge bridge = new HostBridge(HostBridge.BHYVE_VENDOR, HostBridge.BHYVE_DEVICE);
        bridge.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        bridge.configWrite(LATENCY_TIMER, 1, 0x40);
        return bridge;
    }

    @Test
    void hostBridgeConfigSpaceSurvives() {
        HostBridge fresh = new HostBridge(HostBridge.BHYVE_VENDOR, HostBridge.BHYVE_DEVICE);
        StateRoundTrip.assertRoundTrip(busyHostBridge(), fresh);
        assertEquals(PciConfigSpace.COMMAND_MEMORY, fresh.configRead(PciConfigSpace.COMMAND, 2));
        assertEquals(0x40, fresh.configRead(LATENCY_TIMER, 1));
    }

    @Test
    void lpcBridgeConfigSpaceSurvives() {
        LpcBridge bridge = new LpcBridge();
        bridge.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_IO);
        LpcBridge fresh = new LpcBridge();
        StateRoundTrip.assertRoundTrip(bridge, fresh);
        assertEquals(PciConfigSpace.COMMAND_IO, fresh.configRead(PciConfigSpace.COMMAND, 2));
    }

    @Test
    void anotherDeviceInTheSlotIsRefused() {
        byte[] blob = StateRoundTrip.save(busyHostBridge());
        assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(new LpcBridge(), 1, blob));
        HostBridge amd = new HostBridge(HostBridge.AMD_VENDOR, HostBridge.AMD_DEVICE);
        assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(amd, 1, blob));
    }

    @Test
    void damagedBlobsGiveOnlySnapshotExceptions() {
        CorruptBlobs.assertOnlySnapshotExceptions(
                () -> new HostBridge(HostBridge.BHYVE_VENDOR, HostBridge.BHYVE_DEVICE),
                StateRoundTrip.save(busyHostBridge()));
        CorruptBlobs.assertOnlySnapshotExceptions(LpcBridge::new, StateRoundTrip.save(new LpcBridge()));
    }
}
