package org.jbhyve.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jbhyve.config.ConfigException;
import org.jbhyve.control.ControlClient;
import org.jbhyve.control.ControlException;
import org.jbhyve.control.CreatedMachine;
import org.jbhyve.control.Registry;
import org.jbhyve.control.VmRecord;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.vcpu.Descriptor;

/**
 * {@code bhyvectl --vm=NAME [options]}: inspects and controls a VM through the registry
 * ({@link Registry}) and the running VM's control socket ({@link ControlClient}), in the order
 * and with the output and exit statuses of FreeBSD's bhyvectl:
 *
 * <ol>
 *   <li>--create; then the VM is opened: a VM that does not exist is
 *       {@code vm_open: NAME could not be opened: No such file or directory} and status 1;</li>
 *   <li>--get-memseg, --get-memmap; the setters (registers, --set-desc-* with --desc-base/
 *       --desc-limit/--desc-access, selectors); --inject-nmi; --get-lowmem, --get-highmem;</li>
 *   <li>the register getters, descriptors, selectors, x2APIC state, RTC NVRAM and time (set
 *       before get), pending/current event (--get-intinfo);</li>
 *   <li>active, debug and suspended vCPUs, --get-stats, --get-cpu-topology;</li>
 *   <li>--force-reset (bhyve exits 0), --force-poweroff (bhyve exits 1);</li>
 *   <li>--checkpoint=FILE (the VM is saved and runs on), --suspend=FILE (saved, then it stops and
 *       bhyve exits 0; bhyvectl waits until its entry is gone); a relative FILE is taken from
 *       bhyvectl's working directory;</li>
 *   <li>--destroy (a running VM stops and bhyve exits 4; bhyvectl waits until its entry is gone).</li>
 * </ol>
 * The first failure stops there: one line on stderr and status 255 (FreeBSD's exit(-1)); a bad
 * command line is one line and status 1. {@code --get-all} shows everything the VM can answer.
 */
public final class BhyvectlMain {
    static final String PROGRAM = "bhyvectl";
    static final int USAGE = 1;
    static final int FAILED = 255;
    private static final long DESTROY_WAIT_MILLIS = 30_000;

    private BhyvectlMain() {}

    public static void main(String[] args) {
        int status = run(args, System.out, System.err, Registry::open);
        System.out.flush();
        System.exit(status);
    }

    static int run(String[] args, PrintStream out, PrintStream err, Supplier<Registry> registry) {
        BhyvectlOptions o;
        try {
            o = BhyvectlOptions.parse(args);
        } catch (BhyvectlOptions.UsageException e) {
            err.println(PROGRAM + ": " + e.getMessage() + " (" + PROGRAM + " --help lists the options)");
            return USAGE;
        }
        if (o.has("help")) {
            out.print(usage());
            return 0;
        }
        try {
            OptionValues.checkName(o.vm);
            return new Session(o, registry.get(), out).perform();
        } catch (ConfigException | ControlException e) {
            err.println(PROGRAM + ": " + e.getMessage());
            return USAGE;
        } catch (OpenFailure e) {
            err.println("vm_open: " + o.vm + " could not be opened: " + e.getMessage());
            return USAGE;
        } catch (VmRequestException e) {
            out.flush();
            err.println(PROGRAM + ": " + e.getMessage() + " (errno = " + e.errno() + ")");
            return FAILED;
        }
    }

    static String usage() {
        StringBuilder b = new StringBuilder("Usage: " + PROGRAM + " --vm=<vmname>\n");
        for (String name : BhyvectlOptions.names()) {
            if (!name.startsWith("vm=")) {
                b.append("       [--").append(name).append("]\n");
            }
        }
        return b.toString();
    }

    /** The VM could not be opened: the reason in strerror(3)'s words. */
    static final class OpenFailure extends RuntimeException {
        OpenFailure(String reason) {
            super(reason);
        }
    }

    /** One bhyvectl run against one VM. */
    private static final class Session {
        private final BhyvectlOptions o;
        private final Registry registry;
        private final PrintStream out;
        private final int cpu;

        Session(BhyvectlOptions o, Registry registry, PrintStream out) {
            this.o = o;
            this.registry = registry;
            this.out = out;
            this.cpu = o.cpu;
        }

        int perform() {
            if (o.has("create")) {
                try {
                    registry.create(VmRecord.empty(o.vm, PROGRAM), false);
                } catch (ControlException e) {
                    throw new OpenFailure(e.errno() == ControlException.EEXIST || e.errno() == ControlException.EBUSY
                            ? "File exists" : e.getMessage());
                }
            }
            Registry.Entry entry = registry.inspect(o.vm);
            if (entry instanceof Registry.Entry.Stale) {
                registry.removeStale(o.vm);
                entry = registry.inspect(o.vm);
            }
            switch (entry) {
                case Registry.Entry.Absent a -> throw new OpenFailure("No such file or directory");
                case Registry.Entry.Stale s -> throw new OpenFailure("No such file or directory");
                case Registry.Entry.Created c -> {
                    return perform(new CreatedMachine(c.record()), false);
                }
                case Registry.Entry.Running r -> {
                    if (!r.accepting()) {
                        throw new OpenFailure("Device busy (the VM is stopping)");
                    }
                    ControlClient client;
                    try {
                        client = ControlClient.connect(r.socket());
                    } catch (IOException e) {
                        throw new OpenFailure("Connection refused");
                    }
                    try (client) {
                        return perform(client, true);
                    }
                }
            }
        }

        private boolean wants(String flag) {
            return o.has(flag) || o.has("get-all");
        }

        private int perform(MachineControl vm, boolean running) {
            boolean all = o.has("get-all");
            if (wants("get-memseg")) {
                print(BhyvectlFormat.memseg(vm.memory().mappings()));
            }
            if (wants("get-memmap")) {
                print(BhyvectlFormat.memmap(vm.memory().mappings()));
            }
            Map<String, Long> sets = ordered(BhyvectlOptions.REGISTERS, o.sets);
            if (!sets.isEmpty()) {
                vm.setRegisters(cpu, sets);
            }
            for (String d : List.of("ds", "es", "ss", "cs", "fs", "gs", "tr", "ldtr", "gdtr", "idtr")) {
                if (o.setDescriptors.contains(d)) {
                    boolean table = d.equals("gdtr") || d.equals("idtr");
                    vm.setDescriptor(cpu, d, new Descriptor(o.descBase, o.descLimit, table ? 0 : o.descAccess));
                }
            }
            Map<String, Long> selectors = ordered(BhyvectlOptions.SELECTORS, o.setSelectors);
            if (!selectors.isEmpty()) {
                vm.setRegisters(cpu, selectors);
            }
            if (o.has("inject-nmi")) {
                vm.injectNmi(cpu);
            }
            if (wants("get-lowmem") || wants("get-highmem")) {
                MachineControl.MemoryLayout m = vm.memory();
                if (wants("get-lowmem")) {
                    out.println(BhyvectlFormat.memorySegment("lowmem", 0, m.lowmem(), m.wired()));
                }
                if (wants("get-highmem")) {
                    out.println(BhyvectlFormat.memorySegment("highmem", 1L << 32, m.highmem(), m.wired()));
                }
            }
            boolean cpuState = running || !all; // a created VM has no vCPU state to show in --get-all
            List<String> regs = BhyvectlOptions.REGISTERS.stream().filter(r -> all || o.gets.contains(r)).toList();
            if (cpuState && !regs.isEmpty()) {
                vm.getRegisters(cpu, regs).forEach((n, v) -> out.println(BhyvectlFormat.register(n, cpu, v)));
            }
            for (String d : BhyvectlOptions.DESCRIPTORS) {
                if (cpuState && (all || o.getDescriptors.contains(d))) {
                    out.println(BhyvectlFormat.descriptor(d, cpu, vm.getDescriptor(cpu, d)));
                }
            }
            List<String> sel = BhyvectlOptions.SELECTORS.stream().filter(s -> all || o.getSelectors.contains(s)).toList();
            if (cpuState && !sel.isEmpty()) {
                vm.getRegisters(cpu, sel).forEach((n, v) -> out.println(BhyvectlFormat.selector(n, cpu, v)));
            }
            if (cpuState && wants("get-x2apic-state")) {
                out.println(BhyvectlFormat.x2apicState(cpu, vm.getX2apicState(cpu)));
            }
            if (o.setRtcNvram != null) {
                vm.setRtcNvram(o.rtcNvramOffset, o.setRtcNvram);
            }
            if (cpuState && wants("get-rtc-nvram")) {
                out.println(BhyvectlFormat.rtcNvram(o.rtcNvramOffset, vm.getRtcNvram(o.rtcNvramOffset)));
            }
            if (o.setRtcTime != null) {
                vm.setRtcTime(o.setRtcTime);
            }
            if (cpuState && wants("get-rtc-time")) {
                out.println(BhyvectlFormat.rtcTime(vm.getRtcTime()));
            }
            if (cpuState && wants("get-intinfo")) {
                long[] info = vm.getIntinfo(cpu);
                out.println(BhyvectlFormat.intinfo("pending", info[0]));
                out.println(BhyvectlFormat.intinfo("current", info[1]));
            }
            if (wants("get-active-cpus")) {
                out.println(BhyvectlFormat.cpus("active cpus", vm.activeCpus()));
            }
            if (wants("get-debug-cpus")) {
                out.println(BhyvectlFormat.cpus("debug cpus", List.of()));
            }
            if (wants("get-suspended-cpus")) {
                out.println(BhyvectlFormat.cpus("suspended cpus", vm.suspendedCpus()));
            }
            if (cpuState && wants("get-stats")) {
                print(BhyvectlFormat.stats(cpu, vm.getStats(cpu)));
            }
            if (wants("get-cpu-topology")) {
                out.println(BhyvectlFormat.topology(vm.topology()));
            }
            if (o.has("force-reset")) {
                vm.forceReset();
            }
            if (o.has("force-poweroff")) {
                vm.forcePoweroff();
            }
            if (o.checkpointFile != null) {
                vm.checkpoint(absolute(o.checkpointFile), false);
            }
            if (o.suspendFile != null) {
                vm.checkpoint(absolute(o.suspendFile), true);
                awaitGone(); // like FreeBSD's bhyve, which destroys the VM after a suspend
            }
            if (o.has("destroy")) {
                destroy(vm, running);
            }
            return 0;
        }

        private void destroy(MachineControl vm, boolean running) {
            if (!running) {
                registry.destroy(o.vm);
                return;
            }
            vm.destroy();
            awaitGone();
        }

        /** The snapshot file as the VM must see it: relative to where bhyvectl runs. */
        private static String absolute(String file) {
            return java.nio.file.Path.of(file).toAbsolutePath().normalize().toString();
        }

        /** Waits until the VM has stopped and left the registry. */
        private void awaitGone() {
            long deadline = System.nanoTime() + DESTROY_WAIT_MILLIS * 1_000_000;
            while (System.nanoTime() < deadline) {
                Registry.Entry e = registry.inspect(o.vm);
                if (e instanceof Registry.Entry.Absent) {
                    return;
                }
                if (!(e instanceof Registry.Entry.Running)) {
                    // Stale: it died before removing its entry, or it was removing it while
                    // inspect looked (without the registry lock); then destroy finds nothing.
                    try {
                        registry.destroy(o.vm);
                    } catch (ControlException gone) {
                        if (gone.errno() != ControlException.ENOENT) {
                            throw gone;
                        }
                    }
                    return;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            throw new VmRequestException(VmRequestException.ETIMEDOUT,
                    "vm " + o.vm + " did not stop within " + DESTROY_WAIT_MILLIS / 1000 + " s");
        }

        private void print(List<String> lines) {
            lines.forEach(out::println);
        }

        private static Map<String, Long> ordered(List<String> order, Map<String, Long> values) {
            Map<String, Long> out = new LinkedHashMap<>();
            for (String n : order) {
                if (values.containsKey(n)) {
                    out.put(n, values.get(n));
                }
            }
            return out;
        }
    }

}
