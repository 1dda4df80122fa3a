package org.jbhyve.kvm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
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
 *
 * <p>The page is read through a little-endian {@link ByteBuffer} view rather than the segment's
 * accessors: every exit reads it several times, and with the client compiler alone (the
 * launcher's choice, for start-up) a segment accessor costs about 10 ns, a buffer's about 3.
 * The buffer checks its bounds as the segment would; offsets KVM hands us (the port data's) are
 * checked as 64-bit values before they become a buffer index.
 */
public final class KvmRun {
    static final int EXIT_UNKNOWN = 0, EXIT_IO = 2, EXIT_DEBUG = 4, EXIT_HLT = 5, EXIT_MMIO = 6, EXIT_SHUTDOWN = 8;
    static final int EXIT_FAIL_ENTRY = 9, EXIT_INTR = 10, EXIT_INTERNAL_ERROR = 17;
    static final int EXIT_SYSTEM_EVENT = 24, EXIT_X86_RDMSR = 29, EXIT_X86_WRMSR = 30;
    private static final int EXIT_REASON = 8;
    private static final int IF_FLAG = 13;
    private static final int UNION = 32;
    private static final int IO_DIRECTION_OUT = 1;

    /** The whole mapping, little-endian (kvm_run's fields, and the port data KVM puts after it). */
    private final ByteBuffer page;

    KvmRun(MemorySegment page) {
        this.page = page.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    VcpuExit decode() {
        int reason = page.getInt(EXIT_REASON);
        return switch (reason) {
            case EXIT_IO -> new VcpuExit.Io(
                    page.get(UNION) == IO_DIRECTION_OUT,
                    Short.toUnsignedInt(page.getShort(UNION + 2)),
                    Byte.toUnsignedInt(page.get(UNION + 1)),
                    page.getInt(UNION + 4));
            case EXIT_MMIO -> new VcpuExit.Mmio(
                    page.get(UNION + 20) != 0,
                    page.getLong(UNION),
                    page.getInt(UNION + 16),
                    page.getLong(UNION + 8));
            case EXIT_HLT -> new VcpuExit.Halt();
            case EXIT_DEBUG -> new VcpuExit.Debug(page.getInt(UNION),
                    page.getLong(UNION + 8), page.getLong(UNION + 16), page.getLong(UNION + 24));
            case EXIT_SHUTDOWN -> new VcpuExit.Shutdown();
            case EXIT_SYSTEM_EVENT -> new VcpuExit.SystemEvent(page.getInt(UNION));
            case EXIT_FAIL_ENTRY -> new VcpuExit.FailEntry(page.getLong(UNION));
            case EXIT_INTERNAL_ERROR -> new VcpuExit.InternalError(page.getInt(UNION), instructionBytes());
            case EXIT_INTR -> new VcpuExit.Interrupted();
            case EXIT_X86_RDMSR, EXIT_X86_WRMSR -> new VcpuExit.Msr(reason == EXIT_X86_WRMSR,
                    page.getInt(UNION + 12), page.getLong(UNION + 16));
            default -> new VcpuExit.Other(reason);
        };
    }

    /**
     * internal.emulation_failure { u32 suberror; u32 ndata; u64 flags; u8 insn_size; u8 insn_bytes[15] }:
     * the bytes are valid when suberror is 1 (emulation), ndata covers them and flags bit 0 is set.
     */
    private byte[] instructionBytes() {
        int suberror = page.getInt(UNION);
        int ndata = page.getInt(UNION + 4);
        long flags = page.getLong(UNION + 8);
        if (suberror != VcpuExit.InternalError.EMULATION || ndata < 3 || (flags & 1) == 0) {
            return new byte[0];
        }
        int size = Math.min(15, Byte.toUnsignedInt(page.get(UNION + 16)));
        byte[] bytes = new byte[size];
        page.get(UNION + 17, bytes);
        return bytes;
    }

    /**
     * Element {@code index} of the current port-I/O exit's data ({@code count} elements of
     * {@code size} bytes, little-endian), read where KVM put it: the exit path allocates nothing.
     */
    public long ioValue(VcpuExit.Io io, int index) {
        int at = ioElement(io, index);
        return switch (io.size()) {
            case 1 -> Byte.toUnsignedLong(page.get(at));
            case 2 -> Short.toUnsignedLong(page.getShort(at));
            default -> Integer.toUnsignedLong(page.getInt(at)); // KVM's port accesses are 1, 2 or 4 bytes
        };
    }

    /** Answers element {@code index} of a port read: KVM copies it into the guest on the next KVM_RUN. */
    public void setIoValue(VcpuExit.Io io, int index, long value) {
        int at = ioElement(io, index);
        switch (io.size()) {
            case 1 -> page.put(at, (byte) value);
            case 2 -> page.putShort(at, (short) value);
            default -> page.putInt(at, (int) value);
        }
    }

    /**
     * Where element {@code index} of the exit's data is in this mapping (KVM gives the data's
     * offset); {@link IndexOutOfBoundsException} when the element lies outside it.
     */
    private int ioElement(VcpuExit.Io io, int index) {
        long at = page.getLong(UNION + 8) + (long) index * io.size();
        if (at < 0 || at > page.capacity() - io.size()) {
            throw new IndexOutOfBoundsException("port data at offset " + at + " lies outside kvm_run");
        }
        return (int) at;
    }

    /** Answers an MMIO read: KVM copies these bytes into the guest register on the next KVM_RUN. */
    public void setMmioReadData(long value) {
        page.putLong(UNION + 8, value);
    }

    /** Answers an MSR exit: the value read (for RDMSR) and whether to inject #GP. */
    public void setMsrResult(long value, boolean fault) {
        page.put(UNION, (byte) (fault ? 1 : 0));
        page.putLong(UNION + 16, value);
    }

    /** RFLAGS.IF as of the last exit. */
    public boolean interruptsEnabled() {
        return page.get(IF_FLAG) != 0;
    }
}
