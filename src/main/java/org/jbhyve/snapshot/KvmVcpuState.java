package org.jbhyve.snapshot;

import java.util.List;
import org.jbhyve.kvm.KvmStateBlob;
import org.jbhyve.kvm.VcpuFd;

/**
 * One vCPU as KVM holds it: the kernel structures of {@link KvmStateBlob} as raw bytes, then
 * every MSR KVM lists as saveable (index, whether it could be read, value).
 *
 * <p>Restore order matters, as in QEMU's migration: registers, XSAVE and XCR0, then the special
 * registers (which set APIC_BASE, hence the APIC mode), then the LAPIC page, then the MSRs (the
 * TSC-deadline MSR is ignored by KVM unless the LAPIC timer is already in deadline mode; the TSC
 * MSR puts the guest's TSC back where it was, so guest time does not jump), then the pending
 * events, the MP state and the debug registers. The vCPU must not be inside KVM_RUN. An MSR the
 * kernel read at save but refuses at restore (a host with another CPU) is left at its reset value.
 */
public final class KvmVcpuState implements Snapshottable {
    /** The blobs in restore order. */
    private static final List<KvmStateBlob> ORDER = List.of(KvmStateBlob.REGS, KvmStateBlob.XSAVE,
            KvmStateBlob.XCRS, KvmStateBlob.SREGS, KvmStateBlob.LAPIC);
    private static final List<KvmStateBlob> AFTER_MSRS = List.of(KvmStateBlob.EVENTS, KvmStateBlob.MP_STATE,
            KvmStateBlob.DEBUGREGS);

    private final VcpuFd vcpu;
    private final int[] msrIndexes;

    /** {@code msrIndexes}: KVM's list of saveable MSRs ({@link org.jbhyve.kvm.Kvm#savedMsrIndexes}). */
    public KvmVcpuState(VcpuFd vcpu, int[] msrIndexes) {
        this.vcpu = vcpu;
        this.msrIndexes = msrIndexes.clone();
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        for (KvmStateBlob blob : ORDER) {
            out.bytes(vcpu.getState(blob));
        }
        boolean[] readable = new boolean[msrIndexes.length];
        long[] values = vcpu.getMsrs(msrIndexes, readable);
        out.i32(msrIndexes.length);
        for (int i = 0; i < msrIndexes.length; i++) {
            out.i32(msrIndexes[i]).bool(readable[i]).i64(values[i]);
        }
        for (KvmStateBlob blob : AFTER_MSRS) {
            out.bytes(vcpu.getState(blob));
        }
    }

    @Override
    public void restoreState(StateReader in, int version) {
        byte[][] first = new byte[ORDER.size()][];
        for (int i = 0; i < ORDER.size(); i++) {
            first[i] = in.bytes(ORDER.get(i).size());
        }
        int count = in.intIn(0, 1 << 16, "the MSR count");
        int[] indexes = new int[count];
        boolean[] use = new boolean[count];
        long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            indexes[i] = in.i32();
            use[i] = in.bool();
            values[i] = in.i64();
        }
        byte[][] last = new byte[AFTER_MSRS.size()][];
        for (int i = 0; i < AFTER_MSRS.size(); i++) {
            last[i] = in.bytes(AFTER_MSRS.get(i).size());
        }
        for (int i = 0; i < ORDER.size(); i++) {
            set(ORDER.get(i), first[i]);
        }
        vcpu.setMsrsWhereAccepted(indexes, values, use);
        for (int i = 0; i < AFTER_MSRS.size(); i++) {
            set(AFTER_MSRS.get(i), last[i]);
        }
    }

    private void set(KvmStateBlob blob, byte[] bytes) {
        try {
            vcpu.setState(blob, bytes);
        } catch (org.jbhyve.sys.SysException e) {
            throw new SnapshotException("vcpu " + vcpu.id() + ": KVM refused the saved " + blob.name().toLowerCase()
                    + ": " + e.getMessage());
        }
    }
}
