package org.jbhyve.machine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.devices.firmware.FwCfg;
import org.jbhyve.devices.lpc.LpcComPorts;
import org.jbhyve.machine.acpi.FirmwareAcpiFiles;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.boot.E820Map;
import org.jbhyve.machine.smbios.SmbiosTables;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * What the fw_cfg device ({@code lpc.fwcfg=qemu}, on by default with a boot ROM) tells the
 * firmware, in the items and files QEMU's PC machine provides and SeaBIOS/OVMF read:
 *
 * <pre>
 * 0x02 UUID (SMBIOS byte order)    0x03 RAM size (u64)     0x04 no graphics (u16)
 * 0x05 CPUs present (u16)          0x0e boot menu (u16, 0: no "press ESC" pause)
 * 0x0f CPUs possible (u16)
 * etc/e820                         the memory map: {u64 address, u64 length, u32 type} per range
 * etc/smbios/smbios-anchor, -tables   the SMBIOS tables (the firmware places them)
 * etc/acpi/rsdp, etc/acpi/tables, etc/table-loader   the ACPI tables of -A and their loader script
 * bootorder                        see {@link BootOrder}
 * etc/sercon-port                  (u16) SeaBIOS mirrors its screen and keyboard on this UART (0: none)
 * </pre>
 * The serial console is jbhyve's {@code firmware.console} setting: {@code off} (the default: as
 * with bhyve's firmware, COM1 carries only what the guest itself writes there) or
 * {@code com1}..{@code com4}, which shows SeaBIOS's messages and the boot menus of legacy boot
 * loaders (INT 10h output) on that port, and takes keys from it, on a VM without a display.
 */
final class FirmwareConfig {
    static final int UUID = 0x02, RAM_SIZE = 0x03, NOGRAPHIC = 0x04, NB_CPUS = 0x05, BOOT_MENU = 0x0E,
            MAX_CPUS = 0x0F;
    static final String E820 = "etc/e820", SERCON = "etc/sercon-port";
    static final String SMBIOS_ANCHOR = "etc/smbios/smbios-anchor", SMBIOS_TABLES = "etc/smbios/smbios-tables";
    static final String CONSOLE_KEY = "firmware.console";
    private static final int E820_ENTRY = 20;

    private FirmwareConfig() {}

    static FwCfg build(MachineSpec spec, MemoryMap map, GuestMemory memory, PlatformDescription p,
                       SmbiosTables.FirmwareFiles smbios) {
        int cpus = spec.topology().vcpus();
        FwCfg.Builder b = FwCfg.builder()
                .item64(RAM_SIZE, map.totalRam())
                .item16(NOGRAPHIC, hasDisplay(spec) ? 0 : 1)
                .item16(NB_CPUS, cpus)
                .item16(MAX_CPUS, cpus)
                .item16(BOOT_MENU, 0)
                .file(E820, e820(map))
                .file(SMBIOS_ANCHOR, smbios.anchor())
                .file(SMBIOS_TABLES, smbios.tables())
                .file(BootOrder.FILE, BootOrder.file(BootOrder.paths(spec.pciSlots(), spec.tree())));
        if (p.uuid() != null) {
            b.item(UUID, SmbiosTables.uuidBytes(p.uuid()));
        }
        if (spec.acpi()) {
            FirmwareAcpiFiles.Files acpi = FirmwareAcpiFiles.build(p);
            b.file(FirmwareAcpiFiles.RSDP, acpi.rsdp()).file(FirmwareAcpiFiles.TABLES, acpi.tables())
                    .file(FirmwareAcpiFiles.LOADER, acpi.loader());
        }
        // Always present: without it SeaBIOS turns COM1 into its console by itself when told there
        // is no display, which firmware.console=off must be able to prevent.
        int console = consolePort(spec);
        b.file(SERCON, new byte[] {(byte) console, (byte) (console >>> 8)});
        return b.build(memory);
    }

    /** The memory map as etc/e820 entries (packed, little-endian). */
    static byte[] e820(MemoryMap map) {
        List<E820Map.Entry> entries = E820Map.of(map);
        ByteBuffer out = ByteBuffer.allocate(E820_ENTRY * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (E820Map.Entry e : entries) {
            out.putLong(e.address()).putLong(e.size()).putInt(e.type());
        }
        return out.array();
    }

    /** The UART base port for SeaBIOS's serial console, or 0 for none. */
    static int consolePort(MachineSpec spec) {
        ConfigTree tree = spec.tree();
        String value = tree.getString(CONSOLE_KEY, "off");
        if (value.equals("off")) {
            return 0;
        }
        LpcComPorts port = LpcComPorts.byName(value).orElseThrow(
                () -> new MachineException(CONSOLE_KEY + ": '" + value + "' is not com1..com4 or off"));
        return port.base();
    }

    private static boolean hasDisplay(MachineSpec spec) {
        return spec.pciSlots().stream().anyMatch(s -> s.device().equals("fbuf"));
    }
}
