package org.jbhyve.devices.storage.nvme;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * One submission queue entry (NVMe 1.4, section 4.2), 64 bytes, copied out of the guest's queue
 * before it is looked at, so a guest rewriting the slot cannot change a command half-way:
 *
 * <pre>
 *  0  u8 opcode   1  u8 flags (1:0 fused operation, 7:6 PSDT: 0 = PRPs)   2 u16 command id
 *  4  u32 namespace id     8 reserved      16 u64 metadata pointer
 * 24  u64 PRP entry 1     32 u64 PRP entry 2
 * 40  u32 cdw10   44 cdw11   48 cdw12   52 cdw13   56 cdw14   60 cdw15
 * </pre>
 */
record NvmeCommand(int opcode, int flags, int cid, int nsid, long prp1, long prp2,
                   int cdw10, int cdw11, int cdw12, int cdw13, int cdw14, int cdw15) {
    static final int SIZE = 64;

    /** Reads the entry at {@code offset} of a submission queue's ring. */
    static NvmeCommand read(MemorySegment ring, long offset) {
        int dw0 = ring.get(JAVA_INT_UNALIGNED, offset);
        return new NvmeCommand(dw0 & 0xFF, (dw0 >>> 8) & 0xFF, dw0 >>> 16,
                ring.get(JAVA_INT_UNALIGNED, offset + 4),
                ring.get(JAVA_LONG_UNALIGNED, offset + 24), ring.get(JAVA_LONG_UNALIGNED, offset + 32),
                ring.get(JAVA_INT_UNALIGNED, offset + 40), ring.get(JAVA_INT_UNALIGNED, offset + 44),
                ring.get(JAVA_INT_UNALIGNED, offset + 48), ring.get(JAVA_INT_UNALIGNED, offset + 52),
                ring.get(JAVA_INT_UNALIGNED, offset + 56), ring.get(JAVA_INT_UNALIGNED, offset + 60));
    }

    /** PRP or SGL data pointer: 0 means PRPs, the only kind this controller supports (SGLS = 0). */
    int psdt() {
        return (flags >>> 6) & 3;
    }

    /** Fused operation bits (0 = not fused; fused operations are not supported). */
    int fuse() {
        return flags & 3;
    }

    /** Command dwords 10 and 11 as one 64-bit value (a starting LBA, a log page offset in 12/13...). */
    long cdw10and11() {
        return Integer.toUnsignedLong(cdw10) | (long) cdw11 << 32;
    }
}
