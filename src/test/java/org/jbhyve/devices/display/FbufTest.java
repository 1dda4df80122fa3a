package org.jbhyve.devices.display;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.pci.MsiCapability;
import org.jbhyve.pci.BarMapper;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciRoot;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** fbuf through its config space, mode registers and framebuffer mapping. */
class FbufTest {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory = arena.allocate(Fbuf.FB_SIZE, 4096);
    private final List<String> calls = new ArrayList<>();
    private final FramebufferMapper mapper = new FramebufferMapper() {
        @Override
        public void map(MemorySegment m, long address) {
            calls.add(String.format("map %x size %x", address, m.byteSize()));
        }

        @Override
        public void unmap(long address) {
            calls.add(String.format("unmap %x", address));
        }
    };
    private final Fbuf fbuf = new Fbuf(FbufOptionsTest.parse("w=800,h=600"), memory, mapper);

    @AfterEach
    void free() {
        fbuf.close();
        arena.close();
    }

    private Fbuf placed() {
        return placed(fbuf);
    }

    /** {@code f} at 0:29:0 with its BARs where bhyve's start-up allocation would put them. */
    private static Fbuf placed(Fbuf f) {
        new PciRoot().add(0, 29, 0, "fbuf", f, new BarMapper() {
            @Override
            public void map(PciBar bar, long address, String owner) {}

            @Override
            public void unmap(PciBar bar, long address) {}
        });
        f.assignBar(0, 0xC000_0000L);
        f.assignBar(1, 0xC200_0000L);
        return f;
    }

    private IoHandler registers() {
        return fbuf.bars().get(0).handler();
    }

    @Test
    void configSpaceIsBhyves() {
        assertEquals(0xFB5D, fbuf.configRead(PciConfigSpace.VENDOR, 2));
        assertEquals(0x40FB, fbuf.configRead(PciConfigSpace.DEVICE, 2));
        assertEquals(0x030000, fbuf.configRead(PciConfigSpace.PROG_IF, 4) & 0xFFFFFF);
        assertEquals(0x05, fbuf.configRead((int) fbuf.configRead(PciConfigSpace.CAPABILITIES, 1), 1), "an MSI capability");
        fbuf.configWrite(0x10, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFFF80L, fbuf.configRead(0x10, 4), "BAR0: 128 bytes of 32-bit memory");
        fbuf.configWrite(0x14, 4, 0xFFFFFFFFL);
        assertEquals(0xFE000000L, fbuf.configRead(0x14, 4), "BAR1: 32 MiB of 32-bit memory");
    }

    @Test
    void modeRegistersHoldTheConfiguredMode() {
        assertEquals(32L << 20, registers().read(Fbuf.FBSIZE, 4));
        assertEquals(800, registers().read(Fbuf.WIDTH, 2));
        assertEquals(600, registers().read(Fbuf.HEIGHT, 2));
        assertEquals(32, registers().read(Fbuf.DEPTH, 2));
        assertEquals(0, registers().read(Fbuf.REFRESH, 2));
        assertEquals(800 | 600L << 16 | 32L << 32, registers().read(4, 8));
        assertEquals(800, fbuf.frame().width());
        assertEquals(600, fbuf.frame().height());
    }

    @Test
    void theGuestChangesTheModeButNotToNonsense() {
        registers().write(Fbuf.WIDTH, 2, 1024);
        registers().write(Fbuf.HEIGHT, 2, 768);
        assertEquals(1024, fbuf.frame().width());
        assertEquals(768, fbuf.frame().height());
        registers().write(Fbuf.WIDTH, 4, 0); // width and height 0: VGA mode, not rendered
        assertEquals(0, registers().read(Fbuf.WIDTH, 4));
        assertEquals(1024, fbuf.frame().width(), "the last picture stays");
        registers().write(Fbuf.WIDTH, 4, 0xFFFF | 0xFFFFL << 16);
        assertEquals(1024, fbuf.frame().width(), "65535x65535 does not fit in 32 MiB");
        registers().write(Fbuf.WIDTH, 4, 3840 | 2160L << 16);
        assertEquals(3840, fbuf.frame().width());
        assertEquals(2160, fbuf.frame().height());
    }

    @Test
    void accessesPastTheRegistersAreIgnored() {
        registers().write(126, 4, 0xFFFFFFFFL);
        assertEquals(0, registers().read(126, 4));
        assertEquals(0, registers().read(124, 4), "nothing was written");
        registers().write(124, 4, 0x12345678);
        assertEquals(0x12345678, registers().read(124, 4), "reserved bytes are plain storage, as in bhyve");
    }

    @Test
    void theFramebufferFollowsBar1() {
        placed();
        assertEquals(List.of("map c2000000 size 2000000"), calls);
        calls.clear();
        fbuf.configWrite(0x14, 4, 0xC400_0000L);
        assertEquals(List.of("unmap c2000000", "map c4000000 size 2000000"), calls);
        calls.clear();
        fbuf.configWrite(PciConfigSpace.COMMAND, 2, 0); // memory decoding off
        assertEquals(List.of("unmap c4000000"), calls);
        calls.clear();
        fbuf.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        assertEquals(List.of("map c4000000 size 2000000"), calls);
    }

    @Test
    void theFrameIsTheMemoryAsXrgbPixels() {
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, (10L * 800 + 20) * 4, 0x00FF8040);
        memory.set(ValueLayout.JAVA_BYTE, (599L * 800 + 799) * 4, (byte) 0x7F); // blue byte of the last pixel
        int[] pixels = new int[800 * 600];
        assertTrue(fbuf.frame().copy(800, 600, pixels));
        assertEquals(0x00FF8040, pixels[10 * 800 + 20]);
        assertEquals(0x7F, pixels[800 * 600 - 1]);
        assertFalse(fbuf.frame().copy(1024, 768, new int[1024 * 768]), "the size asked for is not the mode");
    }

    // ------------------------------------------------------------ snapshots

    /** The guest moves BAR1, sets a mode, a reserved register and MSI; returns the MSI capability's offset. */
    private int guestChangesEverything() {
        placed();
        fbuf.configWrite(0x14, 4, 0xC400_0000L);
        registers().write(Fbuf.WIDTH, 4, 1024 | 768L << 16);
        registers().write(Fbuf.REFRESH, 2, 60);
        registers().write(124, 4, 0x12345678);
        int msi = (int) fbuf.configRead(PciConfigSpace.CAPABILITIES, 1);
        fbuf.configWrite(msi + MsiCapability.ADDRESS_LOW, 4, 0xFEE0_0000L);
        fbuf.configWrite(msi + MsiCapability.DATA, 2, 0x41);
        fbuf.configWrite(msi + MsiCapability.CONTROL, 2, MsiCapability.ENABLE);
        return msi;
    }

    @Test
    void snapshotRestoresTheRegistersAndMovesTheFramebufferWithBar1() {
        int msi = guestChangesEverything();
        MemorySegment freshMemory = arena.allocate(Fbuf.FB_SIZE, 4096);
        Fbuf fresh = placed(new Fbuf(FbufOptionsTest.parse("w=800,h=600"), freshMemory, mapper));
        calls.clear();
        StateRoundTrip.assertRoundTrip(fbuf, fresh);
        assertEquals(List.of("unmap c2000000", "map c4000000 size 2000000"), calls,
                "the framebuffer's mapping follows the restored BAR1");
        IoHandler restored = fresh.bars().get(0).handler();
        assertEquals(1024 | 768L << 16 | 32L << 32 | 60L << 48, restored.read(Fbuf.WIDTH, 8));
        assertEquals(32L << 20, restored.read(Fbuf.FBSIZE, 4));
        assertEquals(0x12345678, restored.read(124, 4));
        assertEquals(1024, fresh.frame().width());
        assertEquals(768, fresh.frame().height());
        assertEquals(0xC400_0000L, fresh.configRead(0x14, 4));
        assertEquals(MsiCapability.ENABLE, fresh.configRead(msi + MsiCapability.CONTROL, 2) & MsiCapability.ENABLE);
        assertEquals(0x41, fresh.configRead(msi + MsiCapability.DATA, 2));
        assertEquals(Fbuf.FB_SIZE, fresh.deviceMemory().byteSize());
        assertEquals(freshMemory.address(), fresh.deviceMemory().address(), "the framebuffer itself is device memory");
        fresh.close();
    }

    @Test
    void aSnapshotOfAnotherResolutionIsRefusedInOneLine() {
        byte[] blob = StateRoundTrip.save(fbuf);
        Fbuf other = new Fbuf(FbufOptionsTest.parse("w=1024,h=768"), arena.allocate(Fbuf.FB_SIZE, 4096), mapper);
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(other, 1, blob));
        assertTrue(e.getMessage().endsWith(": the command line gives 1024x768, the snapshot 800x600"), e.getMessage());
        other.close();
    }

    @Test
    void damagedSnapshotsAreRefusedWithSnapshotExceptionsOnly() {
        guestChangesEverything();
        byte[] blob = StateRoundTrip.save(fbuf);
        Fbuf fresh = placed(new Fbuf(FbufOptionsTest.parse("w=800,h=600"), arena.allocate(Fbuf.FB_SIZE, 4096), mapper));
        CorruptBlobs.assertOnlySnapshotExceptions(fresh, blob);
        fresh.close();
    }

    @Test
    void bar1AsMmioReadsAndWritesTheSameMemory() {
        IoHandler fb = fbuf.bars().get(1).handler();
        fb.write(4, 4, 0x00112233);
        assertEquals(0x00112233, memory.get(ValueLayout.JAVA_INT_UNALIGNED, 4));
        assertEquals(0x2233, fb.read(4, 2));
        fb.write(Fbuf.FB_SIZE - 2, 4, 0xAABBCCDDL);
        assertEquals(0xCCDD, fb.read(Fbuf.FB_SIZE - 2, 4), "bytes past the end are dropped");
        byte[] first = new byte[4];
        MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, 0, first, 0, 4);
        assertArrayEquals(new byte[4], first);
    }
}
