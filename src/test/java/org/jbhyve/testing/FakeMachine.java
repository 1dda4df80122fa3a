package org.jbhyve.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.machine.VmState;
import org.jbhyve.vcpu.Descriptor;

/**
 * A VM without KVM behind {@link MachineControl}: registers and descriptors are plain maps per
 * vCPU, and every call is recorded, so protocol and bhyvectl tests can check both what was
 * asked and what came back.
 */
public final class FakeMachine implements MachineControl {
    public final String name;
    public final int vcpus;
    public final List<Map<String, Long>> registers = new ArrayList<>();
    public final List<Map<String, Descriptor>> descriptors = new ArrayList<>();
    public final List<String> calls = new ArrayList<>();
    public volatile VmState state = VmState.RUNNING;
    public long rtcSeconds = 1_700_000_000L;
    public final int[] nvram = new int[128];
    public long[] intinfo = {0, 0};
    public int nmis;
    /** Runs when a stop request (force-reset, force-poweroff, destroy) arrives. */
    public volatile Runnable onStop = () -> { };

    public FakeMachine(String name, int vcpus) {
        this.name = name;
        this.vcpus = vcpus;
        for (int i = 0; i < vcpus; i++) {
            Map<String, Long> r = new TreeMap<>();
            for (String n : org.jbhyve.vcpu.VcpuRegisters.NAMES) {
                r.put(n, 0L);
            }
            registers.add(r);
            Map<String, Descriptor> d = new TreeMap<>();
            for (String n : org.jbhyve.vcpu.VcpuRegisters.DESCRIPTORS) {
                d.put(n, new Descriptor(0, 0xFFFF, 0x93));
            }
            descriptors.add(d);
        }
    }

    private synchronized void record(String call) {
        calls.add(call);
    }

    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    private void check(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpus) {
            throw new VmRequestException(VmRequestException.EINVAL, "vcpu " + vcpu + " does not exist (the VM has "
                    + vcpus + ")");
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public VmState state() {
        return state;
    }

    @Override
    public int vcpuCount() {
        return vcpus;
    }

    @Override
    public Map<String, Long> getRegisters(int vcpu, List<String> names) {
        record("get-registers " + vcpu + " " + names);
        check(vcpu);
        Map<String, Long> out = new LinkedHashMap<>();
        for (String n : names) {
            Long v = registers.get(vcpu).get(n);
            if (v == null) {
                throw new VmRequestException(VmRequestException.EINVAL, "no register named '" + n + "'");
            }
            out.put(n, v);
        }
        return out;
    }

    @Override
    public void setRegisters(int vcpu, Map<String, Long> values) {
        record("set-registers " + vcpu + " " + values);
        check(vcpu);
        registers.get(vcpu).putAll(values);
    }

    @Override
    public Descriptor getDescriptor(int vcpu, String n) {
        record("get-descriptor " + vcpu + " " + n);
        check(vcpu);
        return descriptors.get(vcpu).get(n);
    }

    @Override
    public void setDescriptor(int vcpu, String n, Descriptor d) {
        record("set-descriptor " + vcpu + " " + n + " " + d);
        check(vcpu);
        descriptors.get(vcpu).put(n, d);
    }

    @Override
    public long[] getIntinfo(int vcpu) {
        check(vcpu);
        return intinfo.clone();
    }

    @Override
    public void injectNmi(int vcpu) {
        record("inject-nmi " + vcpu);
        check(vcpu);
        nmis++;
    }

    @Override
    public int getX2apicState(int vcpu) {
        check(vcpu);
        return 0;
    }

    @Override
    public Map<String, Long> getStats(int vcpu) {
        check(vcpu);
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("exits", 1234L);
        s.put("halt_exits", 5L);
        s.put("jbhyve.exits.io", 77L);
        return s;
    }

    @Override
    public MemoryLayout memory() {
        return new MemoryLayout(256L << 20, 0, false, List.of(new Mapping(0, 256L << 20, "sysmem", 0, "RWX", false)));
    }

    @Override
    public List<Integer> activeCpus() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < vcpus; i++) {
            out.add(i);
        }
        return out;
    }

    @Override
    public List<Integer> suspendedCpus() {
        return List.of();
    }

    @Override
    public Topology topology() {
        return new Topology(1, vcpus, 1, vcpus);
    }

    @Override
    public long getRtcTime() {
        return rtcSeconds;
    }

    @Override
    public void setRtcTime(long seconds) {
        record("set-rtc-time " + seconds);
        rtcSeconds = seconds;
    }

    @Override
    public int getRtcNvram(int offset) {
        if (offset < 0 || offset >= 128) {
            throw new VmRequestException(VmRequestException.EINVAL, "rtc nvram offset " + offset + " is not 0-127");
        }
        return nvram[offset];
    }

    @Override
    public void setRtcNvram(int offset, int value) {
        record("set-rtc-nvram " + offset + " " + value);
        nvram[offset] = value;
    }

    @Override
    public void forceReset() {
        record("force-reset");
        state = VmState.STOPPING;
        onStop.run();
    }

    @Override
    public void forcePoweroff() {
        record("force-poweroff");
        state = VmState.STOPPING;
        onStop.run();
    }

    @Override
    public void destroy() {
        record("destroy");
        state = VmState.STOPPING;
        onStop.run();
    }

    /** Records the request; a suspend stops the machine as the real one does after writing. */
    @Override
    public Saved checkpoint(String file, boolean suspend) {
        record((suspend ? "suspend " : "checkpoint ") + file);
        if (suspend) {
            state = VmState.STOPPING;
            onStop.run();
        }
        return new Saved(file, 4096, 0, 1);
    }
}
