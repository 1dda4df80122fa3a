package org.jbhyve.machine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.Topology;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.machine.boot.KernelLoader;
import org.jbhyve.text.Chars;

/**
 * The typed view of a bhyve_config(5) tree that the machine is built from. Reading the tree
 * happens here only, so every key the machine understands is listed in one place:
 *
 * <pre>
 * name, cpus, sockets, cores, threads, memory.size (default 256M), memory.wired,
 * memory.guest_in_core, vcpu.N.cpuset, x86.strictio, rtc.use_localtime, acpi_tables,
 * boot.kernel, boot.initrd, boot.cmdline, destroy_on_poweroff, lpc.comN.path, lpc.pc-testdev, lpc.bootrom,
 * lpc.bootvars, lpc.fwcfg, firmware.console, gdb.port, gdb.address, gdb.wait,
 * pci.BUS.SLOT.FUNC.device (+ that node's other keys as device options)
 * </pre>
 */
public record MachineSpec(String name, CpuTopology topology, long memoryBytes, boolean wired, boolean guestInCore,
                          Map<Integer, List<Integer>> pinning, boolean strictIo, boolean rtcUtc, boolean acpi,
                          Path kernel, Path initrd, String cmdline, Map<String, String> comPorts,
                          boolean pcTestDev, String bootrom, String bootvars, boolean fwCfg,
                          List<PciSlot> pciSlots, Gdb gdb, ConfigTree tree) {

    /**
     * bhyve's {@code -G [w][addr:]port}: the GDB server's TCP address (null: 127.0.0.1) and
     * port, and whether the vCPUs wait for the debugger before their first instruction.
     */
    public record Gdb(String address, int port, boolean waitForDebugger) {
        /** {@code address:port} as a user would write it (IPv6 in brackets). */
        public String where() {
            String host = address == null ? "127.0.0.1" : address;
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** One {@code -s} function: location, bhyve emulation name, and its config node. */
    public record PciSlot(int bus, int slot, int function, String device, String node) {
        /** bus:slot:function, as messages name a slot. */
        public String where() {
            return bus + ":" + slot + ":" + function;
        }
    }

    public static MachineSpec from(ConfigTree tree) {
        String name = tree.get("name").orElseThrow(() -> new ConfigException("no VM name given"));
        Topology parsed = Topology.from(tree);
        int cpus = parsed.cpus();
        CpuTopology topology = new CpuTopology(parsed.sockets(), parsed.cores(), parsed.threads());
        long memory = ConfigTree.parseMemorySize(tree.getString("memory.size", "256M"));
        if (memory % 4096 != 0) {
            memory = (memory + 4095) & ~4095L;
        }
        Map<Integer, List<Integer>> pinning = new TreeMap<>();
        for (String vcpu : tree.children("vcpu")) {
            String cpuset = tree.getString("vcpu." + vcpu + ".cpuset", "");
            int index = parseIndex(vcpu, "vcpu");
            if (index >= cpus) {
                throw new ConfigException("vcpu " + index + " pinned but the VM has " + cpus + " vCPUs");
            }
            List<Integer> hostCpus = new ArrayList<>();
            for (String c : cpuset.split(",")) {
                if (!c.isBlank()) {
                    hostCpus.add(parseIndex(c.trim(), "host cpu"));
                }
            }
            pinning.put(index, List.copyOf(hostCpus));
        }
        Map<String, String> coms = new TreeMap<>();
        for (int n = 1; n <= 4; n++) {
            String key = "com" + n;
            tree.get("lpc." + key + ".path").ifPresent(p -> coms.put(key, p));
        }
        String bootrom = tree.get("lpc.bootrom").orElse(null);
        if (bootrom != null && tree.has("boot.kernel")) {
            throw new ConfigException("-l bootrom and boot.kernel exclude each other: boot firmware or a kernel, not both");
        }
        if (bootrom == null && tree.has("lpc.bootvars")) {
            throw new ConfigException("lpc.bootvars needs a boot ROM (-l bootrom,romfile,varsfile)");
        }
        // QEMU's fw_cfg is on unless bhyve's own interface is asked for by name: firmware and
        // Multiboot test kernels read the CPU count and memory size from it (bhyve answers on the
        // same ports with its fwctl protocol, which nothing on Linux speaks).
        String fwcfg = tree.getString("lpc.fwcfg", "qemu");
        if (!fwcfg.equals("qemu") && !fwcfg.equals("bhyve")) {
            throw new ConfigException("lpc.fwcfg: '" + fwcfg + "' is not bhyve or qemu");
        }
        if (bootrom != null && fwcfg.equals("bhyve")) {
            throw new ConfigException("lpc.fwcfg=bhyve: firmware here reads QEMU's fw_cfg; use -l fwcfg,qemu (the default)");
        }
        return new MachineSpec(name, topology, memory,
                tree.getBoolean("memory.wired", false), tree.getBoolean("memory.guest_in_core", false),
                Map.copyOf(pinning), tree.getBoolean("x86.strictio", false),
                !tree.getBoolean("rtc.use_localtime", true), acpiTables(tree),
                tree.get("boot.kernel").map(Path::of).orElse(null), tree.get("boot.initrd").map(Path::of).orElse(null),
                tree.getString("boot.cmdline", ""), Map.copyOf(coms), tree.getBoolean("lpc.pc-testdev", false),
                bootrom, tree.get("lpc.bootvars").orElse(null), fwcfg.equals("qemu"), pciSlots(tree), gdb(tree), tree);
    }

    /** The GDB server's settings, or null when {@code gdb.port} is not set (no server, as in bhyve). */
    private static Gdb gdb(ConfigTree tree) {
        String port = tree.get("gdb.port").orElse(null);
        if (port == null) {
            return null;
        }
        int number = -1;
        if (port.matches("[0-9]{1,5}")) {
            number = Integer.parseInt(port);
        }
        if (number < 1 || number > 65535) {
            throw new ConfigException("gdb.port: '" + port + "' is not a TCP port (1-65535)");
        }
        String address = tree.get("gdb.address").orElse(null);
        if (address != null && (address.isBlank() || Chars.any(address, Character::isWhitespace))) {
            throw new ConfigException("gdb.address: '" + address + "' is not an address");
        }
        return new Gdb(address, number, tree.getBoolean("gdb.wait", false));
    }

    /**
     * bhyve's -A. Off by default, as in bhyve, except for a Multiboot kernel: such kernels (GRUB's
     * protocol, kvm-unit-tests) expect the firmware tables a PC's BIOS always provides.
     */
    private static boolean acpiTables(ConfigTree tree) {
        if (tree.has("acpi_tables")) {
            return tree.getBoolean("acpi_tables", false);
        }
        return tree.get("boot.kernel").map(k -> KernelLoader.isMultiboot(Path.of(k))).orElse(false);
    }

    /**
     * bhyve's {@code -D}: a guest power-off also destroys the VM, so a VM created by bhyveload or
     * bhyvectl --create leaves the registry instead of staying for the next run.
     */
    public boolean destroyOnPoweroff() {
        return tree.getBoolean("destroy_on_poweroff", false);
    }

    /**
     * Devices a machine has at most one of, with bhyve's refusal of a second: pci_lpc.c's and
     * pci_fbuf.c's words; a second host bridge would announce a second PCI root, which the
     * tables and the config mechanism (one bus hierarchy) cannot describe.
     */
    private static final Map<String, String> ONE_PER_MACHINE = Map.of(
            "lpc", "Only one LPC bridge is allowed.",
            "fbuf", "Only one frame buffer device is allowed.",
            "hostbridge", "Only one host bridge is allowed.");

    private static List<PciSlot> pciSlots(ConfigTree tree) {
        List<PciSlot> slots = new ArrayList<>();
        Map<String, PciSlot> single = new TreeMap<>();
        for (String bus : tree.children("pci")) {
            for (String slot : tree.children("pci." + bus)) {
                for (String fn : tree.children("pci." + bus + "." + slot)) {
                    String node = "pci." + bus + "." + slot + "." + fn;
                    String device = tree.get(node + ".device")
                            .orElseThrow(() -> new ConfigException(node + ": no device= given"));
                    PciSlot s = new PciSlot(parseIndex(bus, "PCI bus"), parseIndex(slot, "PCI slot"),
                            parseIndex(fn, "PCI function"), device, node);
                    if (!PciDeviceCatalog.isAvailable(device)) {
                        throw new ConfigException("pci slot " + s.where() + ": emulation '" + device
                                + "' is not available in this build (-s help lists those that are)");
                    }
                    PciSlot first = single.putIfAbsent(device, s);
                    if (first != null && ONE_PER_MACHINE.containsKey(device)) {
                        throw new ConfigException("pci slot " + s.where() + ": " + ONE_PER_MACHINE.get(device)
                                + " (the first is in slot " + first.where() + ")");
                    }
                    slots.add(s);
                }
            }
        }
        return List.copyOf(slots);
    }

    private static int parseIndex(String text, String what) {
        try {
            int v = Integer.parseInt(text);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ConfigException("invalid " + what + " number '" + text + "'");
        }
    }
}
