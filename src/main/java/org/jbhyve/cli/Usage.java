package org.jbhyve.cli;

import java.util.List;
import java.util.Map;

import org.jbhyve.config.LegacyLpcParser;
import org.jbhyve.config.LegacySlotParser;
import org.jbhyve.config.Topology;
import org.jbhyve.machine.PciDeviceCatalog;

/**
 * The texts of {@code -h}, {@code -s help} and {@code -l help}.
 *
 * <p>The option lines are bhyve's own words (its {@code usage()}), so that
 * people and tools that know bhyve find what they expect; a section after them
 * says what differs on Linux/KVM.
 */
public final class Usage {

    /** One line per option, as bhyve's usage() prints them. */
    private static final List<Map.Entry<String, String>> OPTIONS = List.of(
            Map.entry("-A", "create ACPI tables"),
            Map.entry("-a", "local apic is in xAPIC mode (deprecated)"),
            Map.entry("-C", "include guest memory in core file"),
            Map.entry("-c", "number of CPUs and/or topology specification"),
            Map.entry("-D", "destroy on power-off"),
            Map.entry("-e", "exit on unhandled I/O access"),
            Map.entry("-G", "start a debug server"),
            Map.entry("-H", "vmexit from the guest on HLT"),
            Map.entry("-h", "help"),
            Map.entry("-k", "key=value flat config file"),
            Map.entry("-l", "LPC device configuration"),
            Map.entry("-m", "memory size in MB"),
            Map.entry("-o", "set config 'var' to 'value'"),
            Map.entry("-P", "vmexit from the guest on pause"),
            Map.entry("-p", "pin 'vcpu' to 'hostcpu'"),
            Map.entry("-r", "path to checkpoint file"),
            Map.entry("-S", "guest memory cannot be swapped"),
            Map.entry("-s", "<slot,driver,configinfo> PCI slot config"),
            Map.entry("-U", "UUID"),
            Map.entry("-u", "RTC keeps UTC time"),
            Map.entry("-W", "force virtio to use single-vector MSI"),
            Map.entry("-w", "ignore unimplemented MSRs"),
            Map.entry("-x", "local APIC is in x2APIC mode"),
            Map.entry("-Y", "disable MPtable generation"));

    /** What is different on Linux/KVM, option by option. */
    private static final List<Map.Entry<String, String>> KVM_NOTES = List.of(
            Map.entry("-a", "accepted, no effect: xAPIC mode is the default"),
            Map.entry("-H", "accepted, no effect: KVM's in-kernel local APIC already sleeps on HLT"),
            Map.entry("-P", "accepted, no effect: KVM's pause-loop exiting already handles PAUSE"),
            Map.entry("-c", "the vCPU limit is KVM's (KVM_CAP_MAX_VCPUS), not bhyve's 16; at most "
                    + Topology.MAX_CPUS + " here"),
            Map.entry("-m", "K, M, G or T suffix (either case); a bare number below 1048576 is MiB,"
                    + " a larger one bytes; default 256M"),
            Map.entry("-G", "[w][addr:]port: GDB remote protocol over TCP, default address 127.0.0.1, one"
                    + " client at a time; w holds every vCPU before its first instruction until gdb attaches;"
                    + " vCPUs are threads, x86-64 target description (x87/SSE and control registers too),"
                    + " addresses are the selected vCPU's virtual addresses"),
            Map.entry("-r", "one file from bhyvectl --suspend/--checkpoint (not FreeBSD's FILE.kern and FILE.meta);"
                    + " give the same -s and -l options; name, vCPUs and memory come from the snapshot"),
            Map.entry("-D", "a guest power-off also removes the VM from the registry (one created by bhyveload or"
                    + " bhyvectl --create stays otherwise)"),
            Map.entry("-s", "-s help lists the emulations; -l help lists the LPC devices; bootindex=N on a disk"
                    + " or NIC orders the firmware's boot devices, lowest first"),
            Map.entry("-o", "config.dump=1 prints the settings tree and exits; acpi.dump_dir=DIR also writes"
                    + " the ACPI tables there"),
            Map.entry("-l", "bootrom,ROM[,VARS]: Linux firmware such as /usr/share/seabios/bios-256k.bin"
                    + " or /usr/share/OVMF/OVMF_CODE_4M.fd with a copy of OVMF_VARS_4M.fd; fwcfg,qemu is the"
                    + " default (QEMU's fw_cfg at 0x510); without firmware: -o boot.kernel=PATH (PVH, bzImage,"
                    + " 64-bit ELF or Multiboot) [-o boot.initrd=PATH] [-o boot.cmdline=...]"));

    private Usage() {
    }

    /** The {@code -h} text for a program called {@code progname}, ending with a newline. */
    public static String usage(String progname) {
        String pad = " ".repeat(progname.length());
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: ").append(progname).append(" [-AaCDeHhPSuWwxY]\n");
        sb.append("       ").append(pad).append(" [-c [[cpus=]numcpus][,sockets=n][,cores=n][,threads=n]]\n");
        sb.append("       ").append(pad).append(" [-G [w][addr:]port] [-k config_file] [-l lpc] [-m mem]"
                + " [-o var=value]\n");
        sb.append("       ").append(pad).append(" [-p vcpu:hostcpu] [-r file] [-s pci] [-U uuid] vmname\n");
        for (Map.Entry<String, String> o : OPTIONS) {
            sb.append("       ").append(o.getKey()).append(": ").append(o.getValue()).append('\n');
        }
        sb.append("On Linux/KVM:\n");
        for (Map.Entry<String, String> n : KVM_NOTES) {
            sb.append("       ").append(n.getKey()).append(": ").append(n.getValue()).append('\n');
        }
        return sb.toString();
    }

    /**
     * The {@code -s help} text: every PCI emulation this build implements (an alias such as
     * {@code ahci-hd} when the model it configures is), with a line on its configuration.
     */
    public static String slotHelp() {
        return table("PCI emulations for -s slot,emulation[,conf]:", implementedEmulations().stream()
                .map(e -> Map.entry(e.name(), e.description())).toList());
    }

    /** The emulations of {@code -s} whose model is in the PCI device catalog, in help order. */
    static List<LegacySlotParser.Emulation> implementedEmulations() {
        return LegacySlotParser.EMULATIONS.stream()
                .filter(e -> PciDeviceCatalog.isAvailable(LegacySlotParser.deviceFor(e.name()))).toList();
    }

    /** The {@code -l help} text: every LPC device with a line on its configuration. */
    public static String lpcHelp() {
        return table("LPC devices for -l lpcdev[,conf]:",
                LegacyLpcParser.DEVICES.stream().map(d -> Map.entry(d.name(), d.description())).toList());
    }

    /** A title, then one row per entry: the name padded to the widest, then its description. */
    static String table(String title, List<Map.Entry<String, String>> rows) {
        int width = rows.stream().mapToInt(r -> r.getKey().length()).max().orElse(0);
        StringBuilder sb = new StringBuilder(title).append('\n');
        for (Map.Entry<String, String> r : rows) {
            sb.append("  ").append(r.getKey()).append(" ".repeat(width - r.getKey().length() + 2))
                    .append(r.getValue()).append('\n');
        }
        return sb.toString();
    }
}
