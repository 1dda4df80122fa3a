package org.jbhyve.snapshot;

import org.jbhyve.kvm.KvmStateBlob;
import org.jbhyve.kvm.VmFd;

/**
 * The VM-wide state inside KVM: both i8259s and the IOAPIC (pins, redirection table, IRR), the
 * i8254 PIT's channels, and kvmclock's time base. Restored before any vCPU runs; kvmclock is
 * written last, so the guest's clock goes on from the value it had when saved (the time the VM
 * spent saved does not pass for it, as with QEMU's migration: it never runs backwards).
 */
public final class KvmChipsState implements Snapshottable {
    private static final int[] CHIPS = {VmFd.IRQCHIP_PIC_MASTER, VmFd.IRQCHIP_PIC_SLAVE, VmFd.IRQCHIP_IOAPIC};

    private final VmFd vm;

    public KvmChipsState(VmFd vm) {
        this.vm = vm;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        for (int chip : CHIPS) {
            out.bytes(vm.getIrqchip(chip));
        }
        out.bytes(vm.getState(KvmStateBlob.PIT));
        out.bytes(vm.getState(KvmStateBlob.CLOCK));
    }

    @Override
    public void restoreState(StateReader in, int version) {
        byte[][] chips = new byte[CHIPS.length][];
        for (int i = 0; i < CHIPS.length; i++) {
            chips[i] = in.bytes(520);
            if (chips[i][0] != CHIPS[i] || chips[i][1] != 0 || chips[i][2] != 0 || chips[i][3] != 0) {
                throw in.invalid("interrupt controller " + i + " has chip id " + chips[i][0]);
            }
        }
        byte[] pit = in.bytes(KvmStateBlob.PIT.size());
        byte[] clock = in.bytes(KvmStateBlob.CLOCK.size());
        // struct kvm_clock_data { u64 clock; u32 flags; u32 pad0; u64 realtime; u64 host_tsc; u32 pad[4]; }:
        // only the clock value is an input; the flags and host times KVM_GET_CLOCK reported are not.
        java.util.Arrays.fill(clock, 8, clock.length, (byte) 0);
        try {
            for (byte[] chip : chips) {
                vm.setIrqchip(chip);
            }
            vm.setState(KvmStateBlob.PIT, pit);
            vm.setState(KvmStateBlob.CLOCK, clock);
        } catch (org.jbhyve.sys.SysException e) {
            throw new SnapshotException("KVM refused the saved interrupt controllers or timers: " + e.getMessage());
        }
    }
}
