package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * View of a vCPU's shared kvm_run page (linux/kvm.h, struct kvm_run).
 *
 * <pre>
 *   0  u8  request_interrupt_window     1  u8 immediate_exit
 *   8  u32 exit_reason                 12  u8 ready_for_interrupt_injection, 13 u8 if_flag
 *  32  union:  io   { u8 direction; u8 size; u16 port; u32 count; u64 data_offset }
 *              mmio { u64 phys_addr; u8 data[8]; u32 len; u8 is_write }
 *              fail_entry { u64 hardware_entry_failure_reason; u32 cpu }
 *              internal { u32 suberror; u32 ndata; u64 data[16] } (emulation failure: see below)
 *              system_event { u32 type; u32 ndata; u64 data[16] }
 *              msr { u8 error; u8 pad[7]; u32 reason; u32 index; u64 data }
 *              debug { u32 exception; u32 pad; u64 pc; u64 dr6; u64 dr7 }
 * </pre>
 * Only the vCPU's own thread touches it (other threads kick a vCPU with a signal instead).
 */
public final class KvmRun {
    static final int EXIT_UNKNOWN = 0, EXIT_IO = 2, EXIT_DEBUG = 4, EXIT_HLT = 5, EXIT_MMIO = 6, EXIT_SHUTDOWN = 8;
    static final int EXIT_FAIL_ENTRY = 9, EXIT_INTR = 10, EXIT_INTERNAL_ERROR = 17;
    static final int EXIT_SYSTEM_EVENT = 24, EXIT_X86_RDMSR = 29, EXIT_X86_WRMSR = 30;
    private static final int EXIT_REASON = 8;
    private static final int IF_FLAG = 13;
    private static final int UNION = 32;
    /** Port data is little-endian, as the guest's registers. */
    private static final ValueLayout.OfShort U16 = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int IO_DIRECTION_OUT = 1;

    private final MemorySegment page;

    KvmRun(MemorySegment page) {
        this.page = page;
    }

    VcpuExit decode() {
        int reason = page.get(JAVA_INT_UNALIGNED, EXIT_REASON);
        return switch (reason) {
            case EXIT_IO -> new VcpuExit.Io(
                    page.get(JAVA_BYTE, UNION) == IO_DIRECTION_OUT,
                    Short.toUnsignedInt(page.get(JAVA_SHORT_UNALIGNED, UNION + 2)),
                    Byte.toUnsignedInt(page.get(JAVA_BYTE, UNION + 1)),
                    page.get(JAVA_INT_UNALIGNED, UNION + 4));
            case EXIT_MMIO -> new VcpuExit.Mmio(
                    page.get(JAVA_BYTE, UNION + 20) != 0,
                    page.get(JAVA_LONG_UNALIGNED, UNION),
                    page.get(JAVA_INT_UNALIGNED, UNION + 16),
                    page.get(JAVA_LONG_UNALIGNED, UNION + 8));
            case EXIT_HLT -> new VcpuExit.Halt();
            case EXIT_DEBUG -> new VcpuExit.Debug(page.get(JAVA_INT_UNALIGNED, UNION),
                    page.get(JAVA_LONG_UNALIGNED, UNION + 8), page.get(JAVA_LONG_UNALIGNED, UNION + 16),
                    page.get(JAVA_LONG_UNALIGNED, UNION + 24));
            case EXIT_SHUTDOWN -> new VcpuExit.Shutdown();
            case EXIT_SYSTEM_EVENT -> new VcpuExit.SystemEvent(page.get(JAVA_INT_UNALIGNED, UNION));
            case EXIT_FAIL_ENTRY -> new VcpuExit.FailEntry(page.get(JAVA_LONG_UNALIGNED, UNION));
            case EXIT_INTERNAL_ERROR -> new VcpuExit.InternalError(page.get(JAVA_INT_UNALIGNED, UNION),
                    instructionBytes());
            case EXIT_INTR -> new VcpuExit.Interrupted();
            case EXIT_X86_RDMSR, EXIT_X86_WRMSR -> new VcpuExit.Msr(reason == EXIT_X86_WRMSR,
                    page.get(JAVA_INT_UNALIGNED, UNION + 12), page.get(JAVA_LONG_UNALIGNED, UNION + 16));
            default -> new VcpuExit.Other(reason);
        };
    }

    /**
     * internal.emulation_failure { u32 suberror; u32 ndata; u64 flags; u8 insn_size; u8 insn_bytes[15] }:
     * the bytes are valid when suberror is 1 (emulation), ndata covers them and flags bit 0 is set.
     */
    private byte[] instructionBytes() {
        int suberror = page.get(JAVA_INT_UNALIGNED, UNION);
        int ndata = page.get(JAVA_INT_UNALIGNED, UNION + 4);
        long flags = page.get(JAVA_LONG_UNALIGNED, UNION + 8);
        if (suberror != VcpuExit.InternalError.EMULATION || ndata < 3 || (flags & 1) == 0) {
            return new byte[0];
        }
        int size = Math.min(15, Byte.toUnsignedInt(page.get(JAVA_BYTE, UNION + 16)));
        byte[] bytes = new byte[size];
        MemorySegment.copy(page, JAVA_BYTE, UNION + 17, bytes, 0, size);
        return bytes;
    }

    /**
     * Element {@code index} of the current port-I/O exit's data ({@code count} elements of
     * {@code size} bytes, little-endian), read where KVM put it: the exit path allocates nothing.
     */
    public long ioValue(VcpuExit.Io io, int index) {
        long at = ioElement(io, index);
        return switch (io.size()) {
            case 1 -> Byte.toUnsignedLong(page.get(JAVA_BYTE, at));
            case 2 -> Short.toUnsignedLong(page.get(U16, at));
            default -> Integer.toUnsignedLong(page.get(U32, at)); // KVM's port accesses are 1, 2 or 4 bytes
        };
    }

    /** Answers element {@code index} of a port read: KVM copies it into the guest on the next KVM_RUN. */
    public void setIoValue(VcpuExit.Io io, int index, long value) {
        long at = ioElement(io, index);
        switch (io.size()) {
            case 1 -> page.set(JAVA_BYTE, at, (byte) value);
            case 2 -> page.set(U16, at, (short) value);
            default -> page.set(U32, at, (int) value);
        }
    }

    /** Where element {@code index} of the exit's data is in this page (KVM gives the data's offset). */
    private long ioElement(VcpuExit.Io io, int index) {
        return page.get(JAVA_LONG_UNALIGNED, UNION + 8) + (long) index * io.size();
    }

    /** Answers an MMIO read: KVM copies these bytes into the guest register on the next KVM_RUN. */
    public void setMmioReadData(long value) {
        page.set(JAVA_LONG_UNALIGNED, UNION + 8, value);
    }

    /** Answers an MSR exit: the value read (for RDMSR) and whether to inject #GP. */
    public void setMsrResult(long value, boolean fault) {
        page.set(JAVA_BYTE, UNION, (byte) (fault ? 1 : 0));
        page.set(JAVA_LONG_UNALIGNED, UNION + 16, value);
    }

    /** RFLAGS.IF as of the last exit. */
    public boolean interruptsEnabled() {
        return page.get(JAVA_BYTE, IF_FLAG) != 0;
    }
}
