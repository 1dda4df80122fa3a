package org.jbhyve.irq;

import org.jbhyve.kvm.VmFd;

/**
 * An interrupt line into KVM's in-kernel PIC/IOAPIC: GSI n below 16 reaches both the 8259 pair
 * (IRQ n) and IOAPIC pin n; GSIs 16-23 reach the IOAPIC only. Levels are forwarded as they
 * change, so repeated {@code set(true)} calls cost nothing.
 */
public final class KvmIrqLine implements IrqLine {
    private final VmFd vm;
    private final int gsi;
    private boolean level;

    public KvmIrqLine(VmFd vm, int gsi) {
        this.vm = vm;
        this.gsi = gsi;
    }

    @Override
    public synchronized void set(boolean level) {
        if (this.level != level) {
            this.level = level;
            vm.setIrqLine(gsi, level);
        }
    }

    @Override
    public synchronized void pulse() {
        vm.setIrqLine(gsi, true);
        vm.setIrqLine(gsi, false);
        level = false;
    }
}
