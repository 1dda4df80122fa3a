package org.jbhyve.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoHandler;
import org.junit.jupiter.api.Test;

class PciFunctionTest {
    private static final IoHandler NOTHING = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {}
    };

    /** Records map/unmap calls as "map BAR<i> @addr" / "unmap BAR<i> @addr". */
    static final class RecordingMapper implements BarMapper {
        final List<String> calls = new ArrayList<>();

        @Override
        public void map(PciBar bar, long address, String owner) {
            calls.add(String.format("map BAR%d @%x", bar.index(), address));
        }

        @Override
        public void unmap(PciBar bar, long address) {
            calls.add(String.format("unmap BAR%d @%x", bar.index(), address));
        }
    }

    static final class TestFunction extends PciFunction {
        TestFunction() {
            super(new PciConfigSpace(0x1234, 0x5678, 0x020000, 1));
            addBar(new PciBar(0, PciBar.Kind.IO, 0x20, false, NOTHING));
            addBar(new PciBar(1, PciBar.Kind.MEMORY32, 0x1000, false, NOTHING));
            addBar(new PciBar(2, PciBar.Kind.MEMORY64, 0x4000, true, NOTHING));
        }
    }

    private static TestFunction placed(RecordingMapper mapper) {
        TestFunction f = new TestFunction();
        PciRoot root = new PciRoot();
        root.add(0, 3, 0, "test", f, mapper);
        return f;
    }

    @Test
    void identityRegistersReadBackAndAreReadOnly() {
        TestFunction f = placed(new RecordingMapper());
        assertEquals(0x56781234L, f.configRead(0, 4));
        assertEquals(0x02000001L, f.configRead(8, 4));
        f.configWrite(0, 4, 0xFFFFFFFFL);
        assertEquals(0x56781234L, f.configRead(0, 4), "vendor/device are read-only");
    }

    @Test
    void barSizingReturnsTheSizeMaskWithTypeBits() {
        TestFunction f = placed(new RecordingMapper());
        f.configWrite(0x10, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFFFE1L, f.configRead(0x10, 4),
                "I/O BAR: 32 bytes, bit 0 set, all upper bits (SeaBIOS computes ~(value & ~3) + 1 over 32 bits)");
        f.configWrite(0x14, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFF000L, f.configRead(0x14, 4), "32-bit memory BAR of 4 KiB");
        f.configWrite(0x18, 4, 0xFFFFFFFFL);
        f.configWrite(0x1C, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFC00CL, f.configRead(0x18, 4), "64-bit prefetchable BAR of 16 KiB, low half");
        assertEquals(0xFFFFFFFFL, f.configRead(0x1C, 4), "upper half sizes all ones");
    }

    @Test
    void decodingFollowsTheCommandRegister() {
        RecordingMapper mapper = new RecordingMapper();
        TestFunction f = placed(mapper);
        f.configWrite(0x14, 4, 0xC0001000L);
        assertEquals(List.of(), mapper.calls, "no decode before the memory enable bit");
        f.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        assertEquals(List.of("map BAR1 @c0001000"), mapper.calls);
        f.configWrite(0x14, 4, 0xC0002000L);
        assertEquals(List.of("map BAR1 @c0001000", "unmap BAR1 @c0001000", "map BAR1 @c0002000"), mapper.calls);
        f.configWrite(PciConfigSpace.COMMAND, 2, 0);
        assertEquals("unmap BAR1 @c0002000", mapper.calls.get(mapper.calls.size() - 1));
    }

    @Test
    void anIoBarIsDecodedOnlyBelowSixtyFourKilobytes() {
        RecordingMapper mapper = new RecordingMapper();
        TestFunction f = placed(mapper);
        f.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_IO);
        f.configWrite(0x10, 4, 0xFFFFFFFFL); // sizing leaves all ones in the register: not decoded
        assertEquals(List.of(), mapper.calls);
        f.configWrite(0x10, 4, 0xC000);
        assertEquals(List.of("map BAR0 @c000"), mapper.calls);
        f.configWrite(0x10, 4, 0x1FFE0);
        assertEquals(List.of("map BAR0 @c000", "unmap BAR0 @c000"), mapper.calls, "0x1FFE0 is beyond port space");
    }

    @Test
    void sixtyFourBitBarCombinesBothHalves() {
        RecordingMapper mapper = new RecordingMapper();
        TestFunction f = placed(mapper);
        f.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        f.configWrite(0x1C, 4, 0x10);
        f.configWrite(0x18, 4, 0x4000);
        assertEquals(0x10_0000_4000L, f.barAddress(2));
        assertEquals("map BAR2 @1000004000", mapper.calls.get(mapper.calls.size() - 1));
    }

    @Test
    void assignBarEnablesDecodingAsFirmwareWould() {
        RecordingMapper mapper = new RecordingMapper();
        TestFunction f = placed(mapper);
        f.assignBar(0, 0x2000);
        assertEquals(List.of("map BAR0 @2000"), mapper.calls);
        assertEquals(PciConfigSpace.COMMAND_IO, f.configRead(PciConfigSpace.COMMAND, 2) & 0x3);
        assertEquals(0x2001L, f.configRead(0x10, 4));
    }

    @Test
    void capabilitiesFormAList() {
        PciConfigSpace c = new PciConfigSpace(1, 2, 0, 0);
        int first = c.addCapability(0x05, 10);
        int second = c.addCapability(0x11, 12);
        assertEquals(first, c.get8(PciConfigSpace.CAPABILITIES));
        assertEquals(second, c.get8(first + 1));
        assertEquals(0, c.get8(second + 1));
        assertEquals(PciConfigSpace.STATUS_CAPABILITIES, c.get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_CAPABILITIES);
    }
}
