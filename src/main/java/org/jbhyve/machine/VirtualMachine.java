package org.jbhyve.machine;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jbhyve.snapshot.SnapshotImage;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoBus;
import org.jbhyve.devices.firmware.FwCfg;
import org.jbhyve.devices.lpc.AcpiPowerManagement;
import org.jbhyve.gdb.GdbServer;
import org.jbhyve.gdb.KvmDebugTarget;
import org.jbhyve.irq.KvmIrqLine;
import org.jbhyve.kvm.Kvm;
import org.jbhyve.kvm.VcpuFd;
import org.jbhyve.kvm.VcpuStats;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.boot.EntryState;
import org.jbhyve.machine.boot.KernelLoader;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestRam;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.sys.Affinity;
import org.jbhyve.sys.SysException;
import org.jbhyve.vcpu.ExitStatus;
import org.jbhyve.vcpu.VcpuLoop;

/**
 * A running VM built from a {@link MachineSpec}, in phases: KVM and its in-kernel chips, guest
 * RAM, buses and devices, the kernel image, vCPUs; then it runs until the first exit request and
 * tears everything down in reverse. {@link #run} returns how it ended.
 *
 * <p>Its life cycle ({@link VmState}) belongs to a {@link VmLifecycle}; {@link #control()} is the
 * view outside clients (bhyvectl through the control socket) use, valid from construction on:
 * requests that need vCPUs fail with EBUSY until they run.
 *
 * <p>With {@code -G} the GDB server is bound once guest RAM exists (a port in use fails the
 * start), its target is the vCPU loops and RAM ({@link KvmDebugTarget}, also the loops' debug
 * hook), and with {@code w} every vCPU is held before its thread starts, so the guest runs no
 * instruction until gdb lets it. The server closes before RAM is released.
 */
public final class VirtualMachine implements AutoCloseable {
    private static final long IDLE_POLL_MILLIS = 200;

    private final MachineSpec spec;
    private final Resources resources = new Resources();
    private final VmLifecycle lifecycle;
    private final Object closeLock = new Object();
    private boolean closed; // guarded by closeLock: set before the VM fd and devices close
    private final List<VcpuLoop> loops = new ArrayList<>();
    private final List<VcpuStats> stats = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final VcpuStats[] statsByVcpu;
    private final MachineControl control;
    private volatile IsaDevices isa;
    private volatile IoBus portBus;
    private volatile long romSize;
    private volatile MachineSnapshots snapshots;
    private volatile boolean suspended;
    private volatile Runnable whenStarted = () -> {};

    public VirtualMachine(MachineSpec spec) {
        this.spec = spec;
        this.lifecycle = new VmLifecycle(spec.topology().vcpus());
        this.statsByVcpu = new VcpuStats[spec.topology().vcpus()];
        this.control = new LocalMachineControl(spec, new LocalMachineControl.Parts() {
            @Override
            public VmLifecycle lifecycle() {
                return lifecycle;
            }

            @Override
            public IoBus ports() {
                return portBus;
            }

            @Override
            public VcpuStats stats(int i) {
                synchronized (statsByVcpu) {
                    return statsByVcpu[i];
                }
            }

            @Override
            public long romSize() {
                return romSize;
            }

            @Override
            public MachineControl.Saved checkpoint(Path file, boolean suspend) throws InterruptedException {
                MachineSnapshots s = snapshots;
                if (s == null) {
                    throw new VmRequestException(VmRequestException.EBUSY, "the VM is not running yet");
                }
                return s.checkpoint(lifecycle, file, suspend, () -> suspended = true);
            }
        });
    }

    /** The outside view of this VM (registers, memory layout, stop requests); see {@link MachineControl}. */
    public MachineControl control() {
        return control;
    }

    /** Runs {@code action} once the vCPUs have started (on the thread that called {@link #run}). */
    public void whenStarted(Runnable action) {
        whenStarted = action;
    }

    /** Whether the VM ended because it was suspended to a snapshot (bhyvectl --suspend). */
    public boolean suspended() {
        return suspended;
    }

    /** Where the VM is in its life cycle. */
    public VmState state() {
        return lifecycle.state();
    }

    /** How the VM ended: bhyve's status, the process exit code, and an optional message. */
    public record Result(ExitStatus status, int exitCode, String message) {}

    /** Builds and runs the VM to its end. Start-up problems throw {@link MachineException} or KVM's own. */
    public Result run() throws InterruptedException {
        // Firmware and snapshot files first: a wrong path is the user's mistake, reported before any host setup.
        SnapshotImage restoring = spec.tree().get("restore").map(f -> own(SnapshotImage.open(Path.of(f)))).orElse(null);
        BootRom rom = spec.bootrom() == null ? null : own(BootRom.open(spec.bootrom()));
        if (spec.bootvars() != null) {
            VarsFlash.check(spec.bootvars());
        }
        HostChecks.check(spec);
        Kvm kvm = own(Kvm.open());
        HostChecks.kvmLimits(spec.topology(), kvm.maxVcpus(), kvm.maxVcpuId());
        VmFd vm = own(kvm.createVm());
        vm.setTssAddress(MemoryMap.KVM_TSS);
        vm.setIdentityMapAddress(MemoryMap.KVM_IDENTITY_MAP);
        vm.createIrqchip();
        vm.createPit();
        if (kvm.checkExtension(Kvm.CAP_X86_USER_SPACE_MSR) != 0) {
            vm.enableCap(Kvm.CAP_X86_USER_SPACE_MSR, Kvm.MSR_EXIT_REASON_UNKNOWN);
        }
        if (kvm.checkExtension(Kvm.CAP_EXIT_ON_EMULATION_FAILURE) != 0) {
            vm.enableCap(Kvm.CAP_EXIT_ON_EMULATION_FAILURE, 1);
        }

        MemoryMap map = MemoryMap.forSize(spec.memoryBytes());
        GuestRam ram = own(allocateRam(map));
        int slot = 0;
        for (GuestMemory.Region r : ram.memory().regions()) {
            vm.setUserMemoryRegion(slot++, r.guestBase(), r.host());
        }
        GdbServer gdb = spec.gdb() == null ? null : own(listenForGdb(spec.gdb()));

        Map<String, Object> firmwareDevices = new LinkedHashMap<>();
        IoBus ports = new IoBus("port I/O");
        IoBus mmio = new IoBus("MMIO");
        portBus = ports;
        if (rom != null) {
            romSize = rom.size();
            if (map.lowMemory() < MemoryMap.MiB) {
                throw new MachineException("-l bootrom: firmware needs at least 1 MiB of guest memory");
            }
            rom.install(kvm, vm, slot++, ram.memory());
            if (spec.bootvars() != null) {
                firmwareDevices.put("bootvars", own(VarsFlash.install(spec.bootvars(), rom.base(), vm, slot++, mmio)).flash());
            }
        }
        if (spec.strictIo()) {
            ports.onUnclaimed((port, size, write) -> lifecycle.requestExit(ExitStatus.ERROR, ExitStatus.ERROR.code(),
                    String.format("unhandled %s of %d byte%s at I/O port 0x%x (-e)", write ? "write" : "read",
                            size, size == 1 ? "" : "s", port)));
        }
        GraphicsConsole console = own(new GraphicsConsole(vm, slot++));
        PciAssembly pci = own(new PciAssembly(spec, map, ram.memory(), vm, ports, mmio, console));
        isa = own(new IsaDevices(spec, map, ports, mmio, pci.root(), gsi -> new KvmIrqLine(vm, gsi), vm::signalMsi,
                console.input(), new IsaDevices.Requests() {
            @Override
            public void reset() {
                lifecycle.requestExit(ExitStatus.RESET, ExitStatus.RESET.code(), null);
            }

            @Override
            public void debugExit(int status) {
                lifecycle.requestExit(ExitStatus.POWEROFF, status, null);
            }

            @Override
            public void sleep(int slpTyp) {
                if (slpTyp == AcpiPowerManagement.S5) {
                    lifecycle.requestExit(ExitStatus.POWEROFF, ExitStatus.POWEROFF.code(), null);
                }
            }
        }));

        PlatformDescription platform = FirmwareTables.describe(spec, map, pci, isa.comPorts());
        long rsdp = FirmwareTables.install(spec, ram.memory(), platform);
        if (spec.fwCfg()) {
            FwCfg fwCfg = FirmwareTables.firmwareConfig(spec, map, ram.memory(), platform);
            ports.register(FwCfg.PORT_BASE, FwCfg.PORT_COUNT, "fw_cfg", fwCfg);
            firmwareDevices.put("fw_cfg", fwCfg);
        }
        EntryState entry = rom == null && restoring == null ? loadGuest(ram.memory(), map, rsdp) : null;
        boolean x2apic = spec.tree().getBoolean("x86.x2apic", false);
        boolean ignoreMsrs = !spec.tree().getBoolean("x86.strictmsr", true);
        CpuidBuilder cpuid = new CpuidBuilder(kvm.supportedCpuid(), spec.topology(), x2apic,
                kvm.checkExtension(Kvm.CAP_TSC_DEADLINE_TIMER) != 0);
        List<VcpuFd> vcpus = new ArrayList<>();
        for (int i = 0; i < spec.topology().vcpus(); i++) {
            VcpuFd vcpu = own(vm.createVcpu(spec.topology().apicId(i)));
            vcpus.add(vcpu);
            vcpu.setCpuid(cpuid.forVcpu(i));
            if (i == 0 && entry != null) {
                BootCpu.enter(vcpu, entry); // with firmware every vCPU starts at the reset vector
            }
            loops.add(new VcpuLoop(i, vcpu, ports, mmio, lifecycle, ignoreMsrs));
            openStats(i, vcpu);
        }
        MachineSnapshots machineSnapshots = new MachineSnapshots(spec, vm, kvm.savedMsrIndexes(), vcpus, ram.memory(),
                pci.functions(), concat(isa.devices(), firmwareDevices));
        if (restoring != null) {
            machineSnapshots.restore(restoring);
            restoring.close();
        }
        snapshots = machineSnapshots;
        KvmDebugTarget debugTarget = null;
        if (gdb != null) {
            debugTarget = new KvmDebugTarget(loops, ram.memory(), lifecycle);
            for (VcpuLoop loop : loops) {
                loop.setDebugHook(debugTarget);
                if (spec.gdb().waitForDebugger()) {
                    loop.hold();
                }
            }
        }
        lifecycle.setVcpus(loops);
        Confinement.afterStartUp(spec.tree()); // every host resource is open: drop what only an attacker needs
        console.awaitFirstClient();
        startVcpus();
        lifecycle.started();
        whenStarted.run();
        if (gdb != null) {
            gdb.start(debugTarget);
        }
        VmLifecycle.Outcome outcome = lifecycle.awaitExit(stats.size() == loops.size() ? this::allBlocked : null,
                IDLE_POLL_MILLIS);
        if (gdb != null) {
            gdb.vmEnded(outcome.code() & 0xFF);
        }
        for (Thread t : threads) {
            t.join();
        }
        lifecycle.ended();
        return new Result(outcome.status(), outcome.code(), outcome.message());
    }

    /**
     * Presses the ACPI power button (what SIGTERM does to a bhyve VM). Returns false when the VM
     * has no ACPI tables or the guest never armed the button, so nothing would react to it.
     */
    public boolean pressPowerButton() {
        synchronized (closeLock) { // the SCI goes through the VM fd: never press while it closes
            IsaDevices devices = isa;
            if (closed || !spec.acpi() || devices == null || !devices.powerManagement().powerButtonArmed()) {
                return false;
            }
            devices.powerManagement().pressPowerButton();
            return true;
        }
    }

    /** Asks the VM to stop (signals, control requests); the first request wins. */
    public void requestExit(ExitStatus status, String message) {
        lifecycle.requestExit(status, status.code(), message);
    }

    private static Map<String, Object> concat(Map<String, Object> first, Map<String, Object> second) {
        Map<String, Object> all = new LinkedHashMap<>(first);
        all.putAll(second);
        return all;
    }

    private static GdbServer listenForGdb(MachineSpec.Gdb settings) {
        try {
            return GdbServer.listen(settings.address(), settings.port());
        } catch (java.io.IOException e) {
            throw new MachineException("-G " + settings.where() + ": cannot listen for gdb: "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()));
        }
    }

    private GuestRam allocateRam(MemoryMap map) {
        try {
            return new GuestRam(map, spec.guestInCore(), spec.wired());
        } catch (SysException e) {
            if (e.call().equals("mlock")) {
                throw new MachineException(HostChecks.wiringFailed(map.totalRam(), e, HostChecks.read(HostChecks.LIMITS)));
            }
            throw new MachineException("cannot allocate " + (map.totalRam() >> 20) + " MiB of guest memory"
                    + (spec.wired() ? " (wired, -S)" : "") + ": " + e.getMessage());
        }
    }

    private EntryState loadGuest(GuestMemory memory, MemoryMap map, long rsdp) {
        if (spec.kernel() == null) {
            throw new MachineException("nothing to boot: give -l bootrom,FIRMWARE or -o boot.kernel=PATH "
                    + "(and optionally boot.initrd, boot.cmdline)");
        }
        return new KernelLoader(memory, map).load(spec.kernel(), spec.initrd(), spec.cmdline(), rsdp);
    }

    private void openStats(int index, VcpuFd vcpu) {
        try {
            VcpuStats s = own(vcpu.openStats());
            synchronized (statsByVcpu) {
                statsByVcpu[index] = s;
            }
            if (s.has("blocking")) {
                stats.add(s);
            }
        } catch (SysException e) {
            // Kernels before 5.14 lack binary stats: the VM then never exits on a halted guest.
        }
    }

    private boolean allBlocked() {
        for (VcpuStats s : stats) {
            if (s.read("blocking") == 0) {
                return false;
            }
        }
        return true;
    }

    private void startVcpus() throws InterruptedException {
        for (VcpuLoop loop : loops) {
            List<Integer> pin = spec.pinning().get(loop.index());
            Thread t = Thread.ofPlatform().name("vcpu " + loop.index()).daemon(true).unstarted(() -> loop.run(() -> {
                if (pin != null && !pin.isEmpty()) {
                    pin(pin);
                }
            }));
            threads.add(t);
            t.start();
        }
        for (VcpuLoop loop : loops) {
            loop.awaitStarted();
        }
    }

    /** Pins the calling vCPU thread; HostChecks has checked the CPUs, so a failure here is the host's. */
    private static void pin(List<Integer> cpus) {
        try {
            Affinity.pinCurrentThread(cpus);
        } catch (SysException e) {
            throw new MachineException("cannot pin to host CPUs " + cpus + ": " + e.getMessage());
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        return resources.own(resource);
    }

    @Override
    public void close() {
        lifecycle.requestExit(ExitStatus.ERROR, ExitStatus.ERROR.code(), null);
        for (Thread t : threads) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (statsByVcpu) {
            java.util.Arrays.fill(statsByVcpu, null); // their fds close with the resources
        }
        synchronized (closeLock) {
            closed = true;
        }
        resources.close();
        lifecycle.ended();
    }
}
