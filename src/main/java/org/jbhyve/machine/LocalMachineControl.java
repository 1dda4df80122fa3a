package org.jbhyve.machine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jbhyve.bus.IoBus;
import org.jbhyve.kvm.VcpuStats;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.sys.SysException;
import org.jbhyve.vcpu.Descriptor;
import org.jbhyve.vcpu.ExitStatus;
import org.jbhyve.vcpu.VcpuLoop;
import org.jbhyve.vcpu.VcpuRegisters;
import org.jbhyve.vcpu.VcpuRequest;

/**
 * {@link MachineControl} for a VM in this process: requests become {@link VcpuRequest}s run on
 * the vCPU's thread (waiting at most {@link #TIMEOUT_MILLIS} for the vCPU to leave the guest),
 * or reads of what the VM already knows (its spec, memory map, statistics). A failed KVM call
 * or a vCPU that does not answer is a {@link VmRequestException}; the VM runs on.
 */
final class LocalMachineControl implements MachineControl {
    static final long TIMEOUT_MILLIS = 5000;

    /** What the control needs from the VM it serves, available once the VM is built. */
    interface Parts {
        VmLifecycle lifecycle();

        /** The port bus, or null before the VM is built. */
        IoBus ports();

        /** vCPU {@code i}'s statistics, or null when the kernel has none. */
        VcpuStats stats(int i);

        /** The boot ROM's size in bytes, 0 without one. */
        long romSize();

        /** Saves the VM (see {@link MachineControl#checkpoint}); EBUSY before it runs. */
        Saved checkpoint(java.nio.file.Path file, boolean suspend) throws InterruptedException;
    }

    private final MachineSpec spec;
    private final Parts parts;

    LocalMachineControl(MachineSpec spec, Parts parts) {
        this.spec = spec;
        this.parts = parts;
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public VmState state() {
        return parts.lifecycle().state();
    }

    @Override
    public int vcpuCount() {
        return spec.topology().vcpus();
    }

    @Override
    public Map<String, Long> getRegisters(int vcpu, List<String> names) {
        for (String n : names) {
            checkRegister(n);
        }
        return onVcpu(vcpu, fd -> VcpuRegisters.read(fd, names));
    }

    @Override
    public void setRegisters(int vcpu, Map<String, Long> values) {
        values.keySet().forEach(LocalMachineControl::checkRegister);
        Map<String, Long> copy = new LinkedHashMap<>(values);
        onVcpu(vcpu, fd -> {
            VcpuRegisters.write(fd, copy);
            return null;
        });
    }

    @Override
    public Descriptor getDescriptor(int vcpu, String name) {
        checkDescriptor(name);
        return onVcpu(vcpu, fd -> VcpuRegisters.readDescriptor(fd, name));
    }

    @Override
    public void setDescriptor(int vcpu, String name, Descriptor descriptor) {
        checkDescriptor(name);
        onVcpu(vcpu, fd -> {
            VcpuRegisters.writeDescriptor(fd, name, descriptor);
            return null;
        });
    }

    @Override
    public long[] getIntinfo(int vcpu) {
        return onVcpu(vcpu, fd -> VcpuRegisters.intinfo(fd.getEvents()));
    }

    @Override
    public void injectNmi(int vcpu) {
        onVcpu(vcpu, fd -> {
            fd.injectNmi();
            return null;
        });
    }

    @Override
    public int getX2apicState(int vcpu) {
        checkVcpu(vcpu);
        return spec.tree().getBoolean("x86.x2apic", false) ? 1 : 0;
    }

    @Override
    public Map<String, Long> getStats(int vcpu) {
        VcpuLoop loop = loop(vcpu);
        Map<String, Long> out = new LinkedHashMap<>();
        VcpuStats stats = parts.stats(vcpu);
        if (stats != null) {
            try {
                for (String name : stats.names()) {
                    out.put(name, stats.read(name));
                }
            } catch (SysException e) {
                throw new VmRequestException(e.errno(), "vcpu " + vcpu + " statistics: " + e.getMessage());
            }
        }
        out.putAll(loop.counters().snapshot());
        return out;
    }

    @Override
    public MemoryLayout memory() {
        MemoryMap map = MemoryMap.forSize(spec.memoryBytes());
        List<Mapping> mappings = new ArrayList<>();
        mappings.add(new Mapping(0, map.lowMemory(), "sysmem", 0, "RWX", spec.wired()));
        if (map.highMemory() > 0) {
            mappings.add(new Mapping(MemoryMap.HIGHMEM_BASE, map.highMemory(), "sysmem", map.lowMemory(), "RWX",
                    spec.wired()));
        }
        long rom = parts.romSize();
        if (rom > 0) {
            mappings.add(new Mapping(BootRom.FOUR_GIB - rom, rom, "bootrom", 0, "R-X", false));
        }
        return new MemoryLayout(map.lowMemory(), map.highMemory(), spec.wired(), List.copyOf(mappings));
    }

    @Override
    public List<Integer> activeCpus() {
        return parts.lifecycle().vcpus().stream().filter(VcpuLoop::running).map(VcpuLoop::index).toList();
    }

    @Override
    public List<Integer> suspendedCpus() {
        return parts.lifecycle().vcpus().stream().filter(VcpuLoop::retired).map(VcpuLoop::index).toList();
    }

    @Override
    public Topology topology() {
        var t = spec.topology();
        return new Topology(t.sockets(), t.cores(), t.threads(), t.vcpus());
    }

    @Override
    public long getRtcTime() {
        return withRtc(RtcPorts::time);
    }

    @Override
    public void setRtcTime(long seconds) {
        withRtc(rtc -> {
            rtc.setTime(seconds);
            return null;
        });
    }

    @Override
    public int getRtcNvram(int offset) {
        return withRtc(rtc -> rtc.nvram(offset));
    }

    @Override
    public void setRtcNvram(int offset, int value) {
        withRtc(rtc -> {
            rtc.setNvram(offset, value);
            return null;
        });
    }

    @Override
    public void forceReset() {
        parts.lifecycle().requestExit(ExitStatus.RESET, ExitStatus.RESET.code(), null);
    }

    @Override
    public void forcePoweroff() {
        parts.lifecycle().requestExit(ExitStatus.POWEROFF, ExitStatus.POWEROFF.code(), null);
    }

    @Override
    public void destroy() {
        parts.lifecycle().requestExit(ExitStatus.ERROR, ExitStatus.ERROR.code(), "destroyed by bhyvectl --destroy");
    }

    @Override
    public Saved checkpoint(String file, boolean suspend) {
        java.nio.file.Path path = java.nio.file.Path.of(file);
        if (!path.isAbsolute()) {
            throw new VmRequestException(VmRequestException.EINVAL, "the snapshot file must be an absolute path: " + file);
        }
        try {
            return parts.checkpoint(path, suspend);
        } catch (org.jbhyve.snapshot.SnapshotException e) {
            throw new VmRequestException(VmRequestException.EIO, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmRequestException(VmRequestException.EBUSY, "interrupted while saving the VM");
        }
    }

    private static void checkRegister(String name) {
        if (!VcpuRegisters.NAMES.contains(name)) {
            throw new VmRequestException(VmRequestException.EINVAL, "no register named '" + name + "'");
        }
    }

    private static void checkDescriptor(String name) {
        if (!VcpuRegisters.DESCRIPTORS.contains(name)) {
            throw new VmRequestException(VmRequestException.EINVAL, "no descriptor register named '" + name + "'");
        }
    }

    private void checkVcpu(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpuCount()) {
            throw new VmRequestException(VmRequestException.EINVAL,
                    "vcpu " + vcpu + " does not exist (the VM has " + vcpuCount() + ")");
        }
    }

    private VcpuLoop loop(int vcpu) {
        checkVcpu(vcpu);
        List<VcpuLoop> loops = parts.lifecycle().vcpus();
        if (loops.isEmpty()) {
            throw new VmRequestException(VmRequestException.EBUSY, "the VM is " + state().label());
        }
        return loops.get(vcpu);
    }

    /** Runs {@code request} on the vCPU's thread and waits for its answer. */
    private <T> T onVcpu(int vcpu, VcpuRequest<T> request) {
        CompletableFuture<T> answer = loop(vcpu).submit(request);
        try {
            return answer.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(false);
            throw new VmRequestException(VmRequestException.ETIMEDOUT,
                    "vcpu " + vcpu + " did not leave the guest within " + TIMEOUT_MILLIS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmRequestException(VmRequestException.EBUSY, "interrupted");
        } catch (ExecutionException e) {
            throw translate(vcpu, e.getCause());
        }
    }

    private static VmRequestException translate(int vcpu, Throwable cause) {
        return switch (cause) {
            case VmRequestException v -> v;
            case SysException s -> new VmRequestException(s.errno(), "vcpu " + vcpu + ": " + s.getMessage());
            case IllegalStateException s -> new VmRequestException(VmRequestException.EBUSY, s.getMessage());
            default -> new VmRequestException(VmRequestException.EINVAL, "vcpu " + vcpu + ": " + cause);
        };
    }

    private interface RtcWork<T> {
        T run(RtcPorts rtc);
    }

    private <T> T withRtc(RtcWork<T> work) {
        IoBus ports = parts.ports();
        if (ports == null) {
            throw new VmRequestException(VmRequestException.EBUSY, "the VM is " + state().label());
        }
        try (VmLifecycle.Pause _ = parts.lifecycle().pause(TIMEOUT_MILLIS)) {
            return work.run(new RtcPorts(ports));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmRequestException(VmRequestException.EBUSY, "interrupted");
        }
    }
}
