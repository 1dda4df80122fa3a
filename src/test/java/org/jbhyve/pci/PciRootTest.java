package org.jbhyve.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoHandler;
import org.junit.jupiter.api.Test;

class PciRootTest {
    private final List<String> resetWrites = new ArrayList<>();
    private final IoHandler reset = new IoHandler() {
        @Override
        public long read(long offset, int size) {
            return 0x02;
        }

        @Override
        public void write(long offset, int size, long value) {
            resetWrites.add(Long.toHexString(value));
        }
    };

    private PciRoot rootWithFunction() {
        PciRoot root = new PciRoot();
        root.add(0, 5, 0, "f", new PciFunctionTest.TestFunction(), new PciFunctionTest.RecordingMapper());
        return root;
    }

    private static long address(int bus, int slot, int fn, int reg) {
        return 0x80000000L | bus << 16 | slot << 11 | fn << 8 | reg;
    }

    @Test
    void mechanismOneReadsTheAddressedFunction() {
        IoHandler ports = rootWithFunction().configPorts(reset);
        ports.write(0, 4, address(0, 5, 0, 0));
        assertEquals(0x56781234L, ports.read(4, 4));
        assertEquals(0x5678L, ports.read(6, 2), "word access at 0xCFE reads the upper half");
        assertEquals(0x12L, ports.read(5, 1));
        assertEquals(address(0, 5, 0, 0), ports.read(0, 4), "CONFIG_ADDRESS reads back");
    }

    @Test
    void absentFunctionsAndDisabledAccessReadAllOnes() {
        IoHandler ports = rootWithFunction().configPorts(reset);
        ports.write(0, 4, address(0, 6, 0, 0));
        assertEquals(0xFFFFFFFFL, ports.read(4, 4));
        ports.write(0, 4, address(0, 5, 0, 0) & 0x7FFFFFFFL);
        assertEquals(0xFFFFFFFFL, ports.read(4, 4), "enable bit clear");
        ports.write(0, 4, address(0, 5, 1, 0));
        assertEquals(0xFFFFL, ports.read(4, 2), "function 1 of the slot is absent");
    }

    @Test
    void byteAtCf9IsTheResetRegister() {
        IoHandler ports = rootWithFunction().configPorts(reset);
        ports.write(0, 4, address(0, 5, 0, 0));
        ports.write(1, 1, 0x06);
        assertEquals(List.of("6"), resetWrites);
        assertEquals(0x02L, ports.read(1, 1));
        assertEquals(address(0, 5, 0, 0), ports.read(0, 4), "CONFIG_ADDRESS unchanged by the reset byte");
    }

    @Test
    void ecamAddressesBusSlotFunctionRegister() {
        IoHandler ecam = rootWithFunction().ecam();
        assertEquals(0x1234L, ecam.read(5L << 15, 2));
        assertEquals(0x0200L, ecam.read((5L << 15) + 0xA, 2));
        assertEquals(0xFFFFFFFFL, ecam.read((1L << 20) | (5L << 15), 4), "bus 1 is empty");
    }

    @Test
    void secondFunctionMarksTheSlotMultifunction() {
        PciRoot root = rootWithFunction();
        assertEquals(0, root.read(0, 5, 0, PciConfigSpace.HEADER_TYPE, 1) & 0x80);
        root.add(0, 5, 2, "g", new PciFunctionTest.TestFunction(), new PciFunctionTest.RecordingMapper());
        assertEquals(0x80, root.read(0, 5, 0, PciConfigSpace.HEADER_TYPE, 1) & 0x80);
    }
}
