package org.jbhyve.machine.acpi;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.jbhyve.memory.MemoryMap;

/**
 * What the firmware tables describe: CPUs, RAM, the PCI root complex, ISA devices and
 * interrupt routing. Pure data; ACPI, MP and SMBIOS builders read it and nothing else.
 *
 * @param topology vCPU topology; APIC ids come from it
 * @param x2apic announce x2APIC entries in the MADT ({@code -x})
 * @param lowMemBytes RAM at guest-physical 0 (at most 3 GiB)
 * @param highMemBytes RAM at 4 GiB
 * @param pciWindows the root bridge's I/O and memory apertures (its {@code _CRS})
 * @param ecamBase PCIe ECAM base (MCFG), 0 for none
 * @param ecamBuses buses covered by ECAM (1..256)
 * @param lpc PCI address of the LPC bridge, or null to put the ISA devices directly
 *     under the root bridge
 * @param isaDevices legacy devices announced in the DSDT
 * @param pciRoutes PCI INTx to I/O APIC pin routes (_PRT and MP table)
 * @param hpet whether an HPET exists at {@link #HPET_ADDRESS}
 * @param hpetBlockId the HPET general capabilities register, low 32 bits (HPET table's
 *     event timer block id)
 * @param vmName the VM name
 * @param uuid the SMBIOS system UUID, or null for the default derived from host and VM name
 */
public record PlatformDescription(
        CpuTopology topology,
        boolean x2apic,
        long lowMemBytes,
        long highMemBytes,
        List<PciWindow> pciWindows,
        long ecamBase,
        int ecamBuses,
        PciAddress lpc,
        List<IsaDevice> isaDevices,
        List<PciInterruptRoute> pciRoutes,
        boolean hpet,
        int hpetBlockId,
        String vmName,
        UUID uuid) {

    public static final long LAPIC_ADDRESS = 0xFEE0_0000L;
    public static final long IOAPIC_ADDRESS = 0xFEC0_0000L;
    public static final long HPET_ADDRESS = 0xFED0_0000L;
    public static final long GiB = 1L << 30;
    public static final long PCI_MEM32_BASE = MemoryMap.PCI32_BASE;
    public static final long PCI_MEM32_LIMIT = MemoryMap.PCI32_END;
    public static final long ECAM_BASE = MemoryMap.ECAM_BASE;
    /**
     * bhyve's vhpet capabilities: vendor 0x8086, 8 timers (NUM_TIM_CAP = 7), 64-bit counter,
     * legacy replacement capable, revision 1.
     */
    public static final int BHYVE_HPET_BLOCK_ID = 0x8086_A701;

    public PlatformDescription {
        Objects.requireNonNull(topology, "topology");
        pciWindows = List.copyOf(pciWindows);
        isaDevices = List.copyOf(isaDevices);
        pciRoutes = List.copyOf(pciRoutes);
        Objects.requireNonNull(vmName, "vmName");
        if (lowMemBytes < 0 || lowMemBytes > 3 * GiB || highMemBytes < 0) {
            throw new IllegalArgumentException("bad memory sizes");
        }
        if (ecamBase != 0 && (ecamBuses < 1 || ecamBuses > 256)) {
            throw new IllegalArgumentException("ecamBuses must be 1..256");
        }
    }

    public int vcpus() {
        return topology.vcpus();
    }

    /** Inclusive-exclusive RAM ranges: [0, low) and, if any, [4 GiB, 4 GiB + high). */
    public List<long[]> ramRanges() {
        List<long[]> r = new ArrayList<>();
        if (lowMemBytes > 0) {
            r.add(new long[] {0, lowMemBytes});
        }
        if (highMemBytes > 0) {
            r.add(new long[] {4 * GiB, 4 * GiB + highMemBytes});
        }
        return r;
    }

    /**
     * The PCI root's windows, as the DSDT's _CRS announces them: I/O around the 0xCF8 config
     * ports, the 32-bit BAR window below ECAM, and the 64-bit window the machine allocates from.
     */
    public static List<PciWindow> bhyveWindows(long mem64Base, long mem64Size) {
        return List.of(
                PciWindow.io(0x0000, 0x0CF8),
                PciWindow.io(0x0D00, 0x10000 - 0x0D00),
                PciWindow.memory(PCI_MEM32_BASE, PCI_MEM32_LIMIT - PCI_MEM32_BASE),
                PciWindow.memory(mem64Base, mem64Size));
    }

    /**
     * bhyve's default platform: {@link #bhyveWindows} with the 64-bit window where the machine's
     * memory map puts it, ECAM at 0xE0000000 for 256 buses, COM1/COM2 and the RTC on an LPC
     * bridge at 0:31.0, INTx routes of the given slots to I/O APIC pins 16-23 round robin, HPET.
     */
    public static PlatformDescription bhyveDefaults(
            CpuTopology topology, long lowMem, long highMem, List<Integer> slots, String vmName) {
        List<PciWindow> windows = bhyveWindows(MemoryMap.pci64Base(lowMem, highMem), MemoryMap.PCI64_SIZE);
        List<IsaDevice> isa = List.of(
                IsaDevice.comPort(1, 0x3F8, 4), IsaDevice.comPort(2, 0x2F8, 3), IsaDevice.rtc());
        return new PlatformDescription(topology, false, lowMem, highMem, windows, ECAM_BASE, 256,
                new PciAddress(0, 31, 0), isa, PciInterruptRoute.roundRobin(slots, 16, 8), true,
                BHYVE_HPET_BLOCK_ID, vmName, null);
    }

    public PlatformDescription withX2apic(boolean on) {
        return new PlatformDescription(topology, on, lowMemBytes, highMemBytes, pciWindows,
                ecamBase, ecamBuses, lpc, isaDevices, pciRoutes, hpet, hpetBlockId, vmName, uuid);
    }

    public PlatformDescription withHpet(boolean on) {
        return new PlatformDescription(topology, x2apic, lowMemBytes, highMemBytes, pciWindows,
                ecamBase, ecamBuses, lpc, isaDevices, pciRoutes, on, hpetBlockId, vmName, uuid);
    }

    public PlatformDescription withIsaDevices(List<IsaDevice> devices) {
        return new PlatformDescription(topology, x2apic, lowMemBytes, highMemBytes, pciWindows,
                ecamBase, ecamBuses, lpc, devices, pciRoutes, hpet, hpetBlockId, vmName, uuid);
    }

    public PlatformDescription withUuid(UUID u) {
        return new PlatformDescription(topology, x2apic, lowMemBytes, highMemBytes, pciWindows,
                ecamBase, ecamBuses, lpc, isaDevices, pciRoutes, hpet, hpetBlockId, vmName, u);
    }


    /** A PCI function address. */
    public record PciAddress(int bus, int slot, int function) {
        public PciAddress {
            if (bus < 0 || bus > 255 || slot < 0 || slot > 31 || function < 0 || function > 7) {
                throw new IllegalArgumentException("bad PCI address");
            }
        }

        /** ACPI _ADR of a PCI function: slot in the high word, function in the low word. */
        public long acpiAdr() {
            return (long) slot << 16 | function;
        }
    }

    /** A root-bridge aperture forwarded to PCI: I/O ports, or memory (32- or 64-bit). */
    public record PciWindow(Kind kind, long base, long size) {
        public enum Kind { IO, MEMORY }

        public PciWindow {
            if (size <= 0 || base < 0) {
                throw new IllegalArgumentException("bad window");
            }
            if (kind == Kind.IO && base + size > 0x10000) {
                throw new IllegalArgumentException("I/O window beyond 0xFFFF");
            }
        }

        public static PciWindow io(long base, long size) {
            return new PciWindow(Kind.IO, base, size);
        }

        public static PciWindow memory(long base, long size) {
            return new PciWindow(Kind.MEMORY, base, size);
        }

        public long last() {
            return base + size - 1;
        }

        /** Whether the window lies below 4 GiB (DWordMemory rather than QWordMemory). */
        public boolean below4G() {
            return base + size <= 1L << 32;
        }
    }

    /**
     * A legacy device on the LPC/ISA bus as the DSDT names it.
     *
     * @param name four-character ACPI device name (COM1, RTC, KBD)
     * @param hid compressible EISA id (PNP0501)
     * @param uid _UID, or -1 for none
     * @param io fixed I/O port ranges
     * @param irqs ISA IRQs
     */
    public record IsaDevice(String name, String hid, int uid, List<IoPorts> io, List<Integer> irqs) {
        public IsaDevice {
            io = List.copyOf(io);
            irqs = List.copyOf(irqs);
        }

        /** {@code COMn}: a 16550 UART, 8 ports. */
        public static IsaDevice comPort(int index, int ioBase, int irq) {
            return new IsaDevice("COM" + index, "PNP0501", index,
                    List.of(new IoPorts(ioBase, 8)), List.of(irq));
        }

        /** The MC146818 RTC at 0x70, IRQ 8. */
        public static IsaDevice rtc() {
            return new IsaDevice("RTC", "PNP0B00", -1, List.of(new IoPorts(0x70, 2)), List.of(8));
        }

        /** The i8042 keyboard controller at 0x60/0x64, IRQ 1. */
        public static IsaDevice i8042Keyboard() {
            return new IsaDevice("KBD", "PNP0303", -1,
                    List.of(new IoPorts(0x60, 1), new IoPorts(0x64, 1)), List.of(1));
        }

        /** The i8042's auxiliary (PS/2 mouse) port, IRQ 12. */
        public static IsaDevice i8042Mouse() {
            return new IsaDevice("MOU", "PNP0F13", -1, List.of(), List.of(12));
        }
    }

    /** A fixed I/O port range (decoded on 16 bits). */
    public record IoPorts(int base, int length) {}

    /**
     * PCI INTx routing: pin {@code pin} (0 = INTA .. 3 = INTD) of every function in
     * {@code bus:slot} drives I/O APIC input {@code gsi} (level, active low on the PCI side).
     */
    public record PciInterruptRoute(int bus, int slot, int pin, int gsi) {
        public PciInterruptRoute {
            if (pin < 0 || pin > 3 || slot < 0 || slot > 31) {
                throw new IllegalArgumentException("bad route");
            }
        }

        /**
         * Routes INTA-INTD of each slot on bus 0 to {@code firstPin .. firstPin+count-1},
         * round robin over all (slot, pin) pairs in order, as bhyve's pci_irq does.
         */
        public static List<PciInterruptRoute> roundRobin(List<Integer> slots, int firstPin, int count) {
            List<PciInterruptRoute> r = new ArrayList<>();
            int next = 0;
            for (int slot : slots) {
                for (int pin = 0; pin < 4; pin++) {
                    r.add(new PciInterruptRoute(0, slot, pin, firstPin + next));
                    next = (next + 1) % count;
                }
            }
            return r;
        }
    }
}
