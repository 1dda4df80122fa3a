package org.jbhyve.machine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.jbhyve.config.ConfigException;
import org.jbhyve.devices.firmware.FwCfg;
import org.jbhyve.devices.lpc.LpcComPorts;
import org.jbhyve.machine.acpi.AcpiTables;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.PlatformDescription.IsaDevice;
import org.jbhyve.machine.acpi.PlatformDescription.PciAddress;
import org.jbhyve.machine.acpi.PlatformDescription.PciWindow;
import org.jbhyve.machine.acpi.TableBlob;
import org.jbhyve.machine.smbios.SmbiosTables;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.sys.Errno;

/**
 * Writes the firmware tables bhyve provides into the BIOS area below 1 MiB: the MP table at
 * 0xF0000 (unless {@code -Y}), SMBIOS at 0xF1000 (always), and with {@code -A} the ACPI tables from
 * the RSDP at 0xF2400; what outgrows those slots moves lower ({@link BiosTables}). The platform
 * they describe is the machine as built: its topology, RAM, the PCI windows the BAR allocator
 * uses, the INTx routes, the LPC bridge and the COM ports.
 */
final class FirmwareTables {
    static final String DUMP_KEY = "acpi.dump_dir";
    /** Above ECAM, below the I/O APIC: where firmware that assigns BARs puts them. */
    static final long FIRMWARE_BAR_BASE = MemoryMap.ECAM_BASE + MemoryMap.ECAM_SIZE;
    private static final List<String> SMBIOS_PREFIXES = List.of("bios.", "system.", "board.", "chassis.");

    private FirmwareTables() {}

    /**
     * Writes the tables; returns the RSDP address, or 0 without ACPI. With a boot ROM the firmware
     * owns the BIOS area and places the tables itself (from fw_cfg, see {@link #firmwareConfig}):
     * nothing is written then, but -A's dump still is.
     */
    static long install(MachineSpec spec, GuestMemory memory, PlatformDescription p) {
        if (spec.bootrom() != null) {
            if (spec.acpi()) {
                spec.tree().get(DUMP_KEY).ifPresent(dir -> dump(AcpiTables.place(p, BiosTables.OVERFLOW_BASE).blobs(),
                        Path.of(dir)));
            }
            return 0;
        }
        BiosTables.Layout layout = BiosTables.build(p, spec.tree().getBoolean("x86.mptable", true), spec.acpi(),
                smbiosSettings(spec), hostName());
        if (spec.acpi()) {
            spec.tree().get(DUMP_KEY).ifPresent(dir -> dump(acpiOnly(layout.blobs()), Path.of(dir)));
        }
        layout.notices().forEach(n -> System.err.println("bhyve: " + n));
        TableBlob.writeAll(layout.blobs(), memory::write);
        return layout.rsdp();
    }

    /** The ACPI tables among the BIOS area's blobs (named by their signatures). */
    private static List<TableBlob> acpiOnly(List<TableBlob> blobs) {
        return blobs.stream().filter(b -> !b.name().startsWith("MP") && !b.name().startsWith("SMBIOS")).toList();
    }

    /** The fw_cfg device with this machine's tables, memory map, CPUs and boot order. */
    static FwCfg firmwareConfig(MachineSpec spec, MemoryMap map, GuestMemory memory, PlatformDescription p) {
        return FirmwareConfig.build(spec, map, memory, p,
                SmbiosTables.forFirmware(p, smbiosSettings(spec), hostName()));
    }

    /**
     * jbhyve's {@code acpi.dump_dir=DIR}: also writes each ACPI table to DIR/SIG.aml, as the guest
     * sees it, for {@code iasl -d} (bhyve generated its tables with iasl and could keep them).
     */
    private static void dump(List<TableBlob> blobs, Path dir) {
        try {
            Files.createDirectories(dir);
            for (TableBlob b : blobs) {
                Files.write(dir.resolve(b.name() + ".aml"), b.bytes());
            }
        } catch (IOException e) {
            String where = e instanceof java.nio.file.FileSystemException f && f.getFile() != null ? f.getFile()
                    : dir.toString();
            throw new MachineException(DUMP_KEY + " " + where + ": cannot write the ACPI tables: " + Errno.reason(e));
        }
    }

    /** The machine as built, as every table (and fw_cfg's copies of them) describes it. */
    static PlatformDescription describe(MachineSpec spec, MemoryMap map, PciAssembly pci, List<Integer> comPorts) {
        List<PciWindow> windows = new ArrayList<>(
                PlatformDescription.bhyveWindows(pci.pci64Base(), pci.pci64Limit() - pci.pci64Base()));
        if (spec.bootrom() != null) {
            // SeaBIOS assigns BARs itself, top-down from the I/O APIC: describe that range too, so
            // an OS booted by it finds its devices inside the host bridge's windows.
            windows.add(PciWindow.memory(FIRMWARE_BAR_BASE, MemoryMap.IOAPIC_BASE - FIRMWARE_BAR_BASE));
        }
        List<IsaDevice> isa = new ArrayList<>();
        for (int n : comPorts) {
            LpcComPorts port = LpcComPorts.byName("com" + n).orElseThrow();
            isa.add(IsaDevice.comPort(n, port.base(), port.irq()));
        }
        isa.add(IsaDevice.rtc());
        // bhyve's LPC always has its atkbdc: the PS/2 keyboard and mouse behind ports 0x60/0x64.
        isa.add(IsaDevice.i8042Keyboard());
        isa.add(IsaDevice.i8042Mouse());
        PciAddress lpc = spec.pciSlots().stream().filter(s -> s.device().equals("lpc")).findFirst()
                .map(s -> new PciAddress(s.bus(), s.slot(), s.function())).orElse(null);
        return new PlatformDescription(spec.topology(), spec.tree().getBoolean("x86.x2apic", false),
                map.lowMemory(), map.highMemory(), windows, MemoryMap.ECAM_BASE, 256, lpc, isa, pci.routes(),
                true, PlatformDescription.BHYVE_HPET_BLOCK_ID, spec.name(), uuid(spec));
    }

    private static UUID uuid(MachineSpec spec) {
        String text = spec.tree().get("uuid").orElse(null);
        if (text == null) {
            return null;
        }
        try {
            return UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("invalid UUID '" + text + "'");
        }
    }

    private static Map<String, String> smbiosSettings(MachineSpec spec) {
        Map<String, String> settings = new TreeMap<>();
        for (String prefix : SMBIOS_PREFIXES) {
            String node = prefix.substring(0, prefix.length() - 1);
            for (String key : spec.tree().children(node)) {
                spec.tree().get(prefix + key).ifPresent(v -> settings.put(prefix + key, v));
            }
        }
        return settings;
    }

    /** The host name bhyve hashes into the default UUID. */
    private static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
