package org.jbhyve.machine;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.kvm.VcpuFd;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.snapshot.DeviceMemory;
import org.jbhyve.snapshot.KvmChipsState;
import org.jbhyve.snapshot.KvmVcpuState;
import org.jbhyve.snapshot.MemoryRegion;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.SnapshotImage;
import org.jbhyve.snapshot.SnapshotWriter;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.vcpu.ExitStatus;

/**
 * Saving a built machine to a snapshot and building one back from it. The parts, in the order
 * they are saved and restored:
 *
 * <ol>
 *   <li>"machine": name, topology, memory size and the list of the other parts ({@link MachineShape});</li>
 *   <li>"vcpu/N": each vCPU's KVM state ({@link KvmVcpuState});</li>
 *   <li>"kvm/chips": the in-kernel PICs, IOAPIC, PIT and kvmclock ({@link KvmChipsState}), after the
 *       vCPUs so kvmclock is set once their TSCs are back;</li>
 *   <li>each PCI function by its name ("virtio-blk@0:2:0"), then each legacy device by its name
 *       ("com1", "rtc", "hpet"...).</li>
 * </ol>
 * Guest RAM ("ram@0x0", "ram@0x100000000") and device memory ("NAME/memory") go to the RAM
 * section. A checkpoint pauses every vCPU (outside KVM_RUN, their port and MMIO accesses
 * completed), quiesces the devices, writes, and then resumes or, for a suspend, stops the VM
 * (bhyve then exits 0, as FreeBSD's does after {@code vm_destroy}).
 */
final class MachineSnapshots {
    private static final long PAUSE_TIMEOUT_MILLIS = 30_000;

    private final MachineSpec spec;
    private final VmFd vm;
    private final int[] msrIndexes;
    private final List<VcpuFd> vcpus;
    private final GuestMemory ram;
    private final Map<String, Object> devices = new LinkedHashMap<>();

    MachineSnapshots(MachineSpec spec, VmFd vm, int[] msrIndexes, List<VcpuFd> vcpus, GuestMemory ram,
                     List<PciFunction> functions, Map<String, Object> legacyDevices) {
        this.spec = spec;
        this.vm = vm;
        this.msrIndexes = msrIndexes;
        this.vcpus = List.copyOf(vcpus);
        this.ram = ram;
        for (PciFunction f : functions) {
            devices.put(f.name(), f);
        }
        devices.putAll(legacyDevices);
    }

    /** Pauses, quiesces, writes {@code file}; then resumes, or stops the VM when {@code suspend}. */
    MachineControl.Saved checkpoint(VmLifecycle lifecycle, Path file, boolean suspend, Runnable onSuspended)
            throws InterruptedException {
        long start = System.nanoTime();
        try (VmLifecycle.Pause pause = lifecycle.pause(PAUSE_TIMEOUT_MILLIS)) {
            List<Snapshottable> quiesced = new ArrayList<>();
            boolean stopped = false;
            try {
                for (Map.Entry<String, Object> d : devices.entrySet()) {
                    Snapshottable s = stateOf(d.getKey(), d.getValue());
                    s.quiesce();
                    quiesced.add(s);
                }
                SnapshotWriter.Written w = SnapshotWriter.write(file, parts(), memory(), System.err);
                if (suspend) {
                    onSuspended.run();
                    lifecycle.requestExit(ExitStatus.RESET, 0, null);
                    stopped = true;
                }
                return new MachineControl.Saved(file.toString(), w.fileBytes(), w.memoryBytes(),
                        (System.nanoTime() - start) / 1_000_000);
            } finally {
                if (!stopped) {
                    quiesced.forEach(Snapshottable::resumeAfterSnapshot);
                }
            }
        }
    }

    /**
     * Makes this freshly built machine (vCPUs created, not started) the saved one: checks the
     * parts match, fills guest RAM and device memory, then restores the vCPUs, KVM's chips and
     * every device. Anything that does not fit is a {@link SnapshotException}; the VM then never runs.
     */
    void restore(SnapshotImage image) {
        MachineShape saved = MachineShape.read(image);
        List<String> built = partNames();
        String difference = MachineShape.difference(saved.parts(), built);
        if (difference != null) {
            throw new SnapshotException("-r " + image.file() + ": " + difference);
        }
        if (saved.vcpus() != vcpus.size() || saved.memoryBytes() != spec.memoryBytes()) {
            throw new SnapshotException("-r " + image.file() + ": the snapshot has " + saved.vcpus() + " vCPUs and "
                    + saved.memoryBytes() + " bytes of memory, this machine " + vcpus.size() + " and " + spec.memoryBytes());
        }
        List<MemoryRegion> memory = memory();
        ram.regions().forEach(r -> zero(r.host())); // device memory is fresh: nothing wrote it yet
        // Guest RAM is mapped from the file (copy-on-write, nothing copied); wired RAM (-S) must
        // stay locked anonymous memory and device memory may be shared, so those are copied.
        List<MemorySegment> ramSegments = ram.regions().stream().map(GuestMemory.Region::host).toList();
        image.restoreMemory(memory, System.err, r -> !spec.wired() && ramSegments.contains(r.memory())
                ? SnapshotImage.MemoryLoad.MAP : SnapshotImage.MemoryLoad.COPY);
        if (!spec.wired() && !spec.guestInCore()) {
            ramSegments.forEach(s -> Posix.madvise(s, Posix.MADV_DONTDUMP)); // as GuestRam set it up
        }
        for (int i = 0; i < vcpus.size(); i++) {
            image.restore("vcpu/" + i, new KvmVcpuState(vcpus.get(i), msrIndexes));
        }
        image.restore("kvm/chips", new KvmChipsState(vm));
        for (Map.Entry<String, Object> d : devices.entrySet()) {
            image.restore(d.getKey(), stateOf(d.getKey(), d.getValue()));
        }
    }

    private List<SnapshotWriter.Part> parts() {
        List<SnapshotWriter.Part> parts = new ArrayList<>();
        parts.add(new SnapshotWriter.Part(MachineShape.PART, new MachineShape(spec.name(), spec.topology().sockets(),
                spec.topology().cores(), spec.topology().threads(), spec.memoryBytes(), partNames())));
        for (int i = 0; i < vcpus.size(); i++) {
            parts.add(new SnapshotWriter.Part("vcpu/" + i, new KvmVcpuState(vcpus.get(i), msrIndexes)));
        }
        parts.add(new SnapshotWriter.Part("kvm/chips", new KvmChipsState(vm)));
        devices.forEach((name, device) -> parts.add(new SnapshotWriter.Part(name, stateOf(name, device))));
        return parts;
    }

    private List<String> partNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < vcpus.size(); i++) {
            names.add("vcpu/" + i);
        }
        names.add("kvm/chips");
        names.addAll(devices.keySet());
        return names;
    }

    private List<MemoryRegion> memory() {
        List<MemoryRegion> regions = new ArrayList<>();
        for (GuestMemory.Region r : ram.regions()) {
            regions.add(new MemoryRegion(String.format("ram@0x%x", r.guestBase()), r.host()));
        }
        devices.forEach((name, device) -> {
            if (device instanceof DeviceMemory m) {
                regions.add(new MemoryRegion(name + "/memory", m.deviceMemory()));
            }
        });
        return regions;
    }

    /**
     * Start-up wrote firmware tables into RAM; the snapshot writes only the pages that were not
     * zero, so the rest must be zero first. Dropping the pages does that without touching them
     * (and gives back what start-up used); wired memory cannot be dropped and is cleared instead.
     */
    private static void zero(MemorySegment memory) {
        try {
            Posix.madvise(memory, Posix.MADV_DONTNEED);
        } catch (SysException e) {
            memory.fill((byte) 0);
        }
    }

    /** The device's state, or a part that refuses to be saved when the device has none. */
    private static Snapshottable stateOf(String name, Object device) {
        if (device instanceof Snapshottable s) {
            return s;
        }
        return new Snapshottable() {
            @Override
            public int stateVersion() {
                return 1;
            }

            @Override
            public void saveState(StateWriter out) {
                throw new SnapshotException(name + ": this device cannot be snapshotted");
            }

            @Override
            public void restoreState(StateReader in, int version) {
                throw new SnapshotException(name + ": this device cannot be snapshotted");
            }
        };
    }
}
