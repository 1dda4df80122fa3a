package org.jbhyve.pci;

import java.util.Map;
import java.util.TreeMap;
import org.jbhyve.bus.IoHandler;

/**
 * The PCI hierarchy as the guest reaches it: every function by bus/slot/function, through
 * configuration mechanism #1 and through ECAM.
 *
 * <pre>
 * mechanism #1: 0xCF8 (dword only) CONFIG_ADDRESS = enable(31) | bus(23:16) | slot(15:11)
 *               | function(10:8) | register(7:2); 0xCFC-0xCFF CONFIG_DATA, any width.
 *               A byte access to 0xCF9 is the reset control register, not CONFIG_ADDRESS.
 * ECAM (MMIO):  offset = bus << 20 | slot << 15 | function << 12 | register (4 KiB per function)
 * </pre>
 * Absent functions read all ones; writes to them are dropped.
 */
public final class PciRoot {
    public static final int CONFIG_ADDRESS_PORT = 0xCF8;
    public static final int CONFIG_PORTS_LENGTH = 8;
    private static final int HEADER_MULTIFUNCTION = 0x80;

    private final Map<Integer, PciFunction> functions = new TreeMap<>();
    private int configAddress;

    private static int key(int bus, int slot, int function) {
        return bus << 8 | slot << 3 | function;
    }

    /** Places {@code f} at bus:slot.function; the location must be free. */
    public synchronized void add(int bus, int slot, int function, String name, PciFunction f, BarMapper mapper) {
        if (bus < 0 || bus > 255 || slot < 0 || slot > 31 || function < 0 || function > 7) {
            throw new IllegalArgumentException("bad PCI location " + bus + ":" + slot + ":" + function);
        }
        if (functions.putIfAbsent(key(bus, slot, function), f) != null) {
            throw new IllegalStateException("PCI " + bus + ":" + slot + ":" + function + " is taken");
        }
        f.attach(name + "@" + bus + ":" + slot + ":" + function, mapper);
        PciFunction first = functions.get(key(bus, slot, 0));
        if (first != null && hasOtherFunctions(bus, slot)) {
            first.config().put8(PciConfigSpace.HEADER_TYPE,
                    first.config().get8(PciConfigSpace.HEADER_TYPE) | HEADER_MULTIFUNCTION);
        }
    }

    private boolean hasOtherFunctions(int bus, int slot) {
        for (int fn = 1; fn < 8; fn++) {
            if (functions.containsKey(key(bus, slot, fn))) {
                return true;
            }
        }
        return false;
    }

    public synchronized PciFunction get(int bus, int slot, int function) {
        return functions.get(key(bus, slot, function));
    }

    public synchronized Map<Integer, PciFunction> all() {
        return Map.copyOf(functions);
    }

    public long read(int bus, int slot, int function, int offset, int size) {
        PciFunction f = get(bus, slot, function);
        if (f == null || offset + size > PciConfigSpace.SIZE) {
            return IoHandler.mask(size);
        }
        return f.configRead(offset, size);
    }

    public void write(int bus, int slot, int function, int offset, int size, long value) {
        PciFunction f = get(bus, slot, function);
        if (f != null && offset + size <= PciConfigSpace.SIZE) {
            f.configWrite(offset, size, value);
        }
    }

    /** Ports 0xCF8-0xCFF; {@code resetControl} receives byte accesses to 0xCF9. */
    public IoHandler configPorts(IoHandler resetControl) {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                if (offset == 1 && size == 1) {
                    return resetControl.read(0, 1);
                }
                if (offset == 0 && size == 4) {
                    synchronized (PciRoot.this) {
                        return Integer.toUnsignedLong(configAddress);
                    }
                }
                if (offset >= 4) {
                    return dataAccess((int) offset - 4, size, 0, false);
                }
                return IoHandler.mask(size);
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == 1 && size == 1) {
                    resetControl.write(0, 1, value);
                } else if (offset == 0 && size == 4) {
                    synchronized (PciRoot.this) {
                        configAddress = (int) value;
                    }
                } else if (offset >= 4) {
                    dataAccess((int) offset - 4, size, value, true);
                }
            }
        };
    }

    private long dataAccess(int byteInDword, int size, long value, boolean write) {
        int address;
        synchronized (this) {
            address = configAddress;
        }
        if (address >= 0 || byteInDword + size > 4) { // bit 31 (enable) clear
            return write ? 0 : IoHandler.mask(size);
        }
        int bus = (address >>> 16) & 0xFF;
        int slot = (address >>> 11) & 0x1F;
        int function = (address >>> 8) & 0x7;
        int offset = (address & 0xFC) + byteInDword;
        if (write) {
            write(bus, slot, function, offset, size, value);
            return 0;
        }
        return read(bus, slot, function, offset, size);
    }

    /** The ECAM window handler (map it at {@code MemoryMap.ECAM_BASE}). */
    public IoHandler ecam() {
        return new IoHandler() {
            @Override
            public long read(long offset, int size) {
                return PciRoot.this.read(ecamBus(offset), ecamSlot(offset), ecamFunction(offset), (int) (offset & 0xFFF), size);
            }

            @Override
            public void write(long offset, int size, long value) {
                PciRoot.this.write(ecamBus(offset), ecamSlot(offset), ecamFunction(offset), (int) (offset & 0xFFF), size, value);
            }
        };
    }

    private static int ecamBus(long offset) {
        return (int) (offset >>> 20) & 0xFF;
    }

    private static int ecamSlot(long offset) {
        return (int) (offset >>> 15) & 0x1F;
    }

    private static int ecamFunction(long offset) {
        return (int) (offset >>> 12) & 0x7;
    }
}
