package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * The x87 and SSE state of a vCPU (struct kvm_fpu), which is the FXSAVE image re-laid out:
 *
 * <pre>
 *   0  u8  fpr[8][16]     ST(0)..ST(7) in stack order (not physical register order): each an
 *                         80-bit extended real in the low 10 bytes of its 16-byte slot
 * 128  u16 fcw            control word        130 u16 fsw   status word (TOP in bits 13:11)
 * 132  u8  ftwx           abridged tag word: bit i = physical register i holds a value
 * 134  u16 last_opcode    the 11-bit opcode of the last x87 instruction
 * 136  u64 last_ip        its address (FIP; in 32-bit format FCS sits in bits 47:32)
 * 144  u64 last_dp        its operand's address (FDP; FDS in bits 47:32)
 * 152  u8  xmm[16][16]    XMM0..XMM15, little-endian
 * 408  u32 mxcsr          SSE control and status                         (416 bytes)
 * </pre>
 * Mutable: get, edit, set. The byte arrays are the struct's own bytes.
 */
public final class Fpu {
    static final int SIZE = 416;
    static final int FCW = 128, FSW = 130, FTWX = 132, LAST_OPCODE = 134, LAST_IP = 136, LAST_DP = 144;
    static final int XMM = 152, MXCSR = 408;

    /** ST(0)..ST(7), 16 bytes each (the low 10 hold the value). */
    public final byte[] fpr = new byte[128];
    /** XMM0..XMM15, 16 bytes each. */
    public final byte[] xmm = new byte[256];
    public int fcw;
    public int fsw;
    /** The abridged (FXSAVE) tag byte: one bit per physical register, 1 = valid. */
    public int ftwx;
    public int lastOpcode;
    public long lastIp;
    public long lastDp;
    public int mxcsr;

    /** The state after FNINIT plus the SSE reset value of MXCSR (0x1F80). */
    public static Fpu reset() {
        Fpu f = new Fpu();
        f.fcw = 0x37F;
        f.mxcsr = 0x1F80;
        return f;
    }

    /** A deep copy. */
    public Fpu copy() {
        Fpu f = new Fpu();
        System.arraycopy(fpr, 0, f.fpr, 0, fpr.length);
        System.arraycopy(xmm, 0, f.xmm, 0, xmm.length);
        f.fcw = fcw;
        f.fsw = fsw;
        f.ftwx = ftwx;
        f.lastOpcode = lastOpcode;
        f.lastIp = lastIp;
        f.lastDp = lastDp;
        f.mxcsr = mxcsr;
        return f;
    }

    /** Decodes a struct kvm_fpu. */
    static Fpu decode(MemorySegment b) {
        Fpu f = new Fpu();
        MemorySegment.copy(b, JAVA_BYTE, 0, f.fpr, 0, f.fpr.length);
        MemorySegment.copy(b, JAVA_BYTE, XMM, f.xmm, 0, f.xmm.length);
        f.fcw = Short.toUnsignedInt(b.get(JAVA_SHORT_UNALIGNED, FCW));
        f.fsw = Short.toUnsignedInt(b.get(JAVA_SHORT_UNALIGNED, FSW));
        f.ftwx = Byte.toUnsignedInt(b.get(JAVA_BYTE, FTWX));
        f.lastOpcode = Short.toUnsignedInt(b.get(JAVA_SHORT_UNALIGNED, LAST_OPCODE));
        f.lastIp = b.get(JAVA_LONG_UNALIGNED, LAST_IP);
        f.lastDp = b.get(JAVA_LONG_UNALIGNED, LAST_DP);
        f.mxcsr = b.get(JAVA_INT_UNALIGNED, MXCSR);
        return f;
    }

    /** Encodes this state as a struct kvm_fpu into {@code b} (at least {@link #SIZE} bytes, zeroed pads). */
    void encode(MemorySegment b) {
        MemorySegment.copy(fpr, 0, b, JAVA_BYTE, 0, fpr.length);
        MemorySegment.copy(xmm, 0, b, JAVA_BYTE, XMM, xmm.length);
        b.set(JAVA_SHORT_UNALIGNED, FCW, (short) fcw);
        b.set(JAVA_SHORT_UNALIGNED, FSW, (short) fsw);
        b.set(JAVA_BYTE, FTWX, (byte) ftwx);
        b.set(JAVA_SHORT_UNALIGNED, LAST_OPCODE, (short) lastOpcode);
        b.set(JAVA_LONG_UNALIGNED, LAST_IP, lastIp);
        b.set(JAVA_LONG_UNALIGNED, LAST_DP, lastDp);
        b.set(JAVA_INT_UNALIGNED, MXCSR, mxcsr);
    }
}
