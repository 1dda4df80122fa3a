package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.jbhyve.kvm.Fpu;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;
import org.junit.jupiter.api.Test;

/** gdb's register numbers over KVM's register sets, byte for byte. */
class RegisterFileTest {
    private static CpuState state() {
        Registers r = new Registers();
        for (int i = 0; i < 18; i++) {
            r.set(i, 0x1111_1111_1111_1111L * (i % 15 + 1));
        }
        SpecialRegisters s = new SpecialRegisters();
        s.cs = Segment.flatCode(0x08, true);
        s.ss = Segment.flatData(0x10);
        s.ds = s.es = Segment.flatData(0x18);
        s.fs = new Segment(0x7000_0000L, 0xFFFF, 0x23, 3, true, 3, true, true, false, true, false);
        s.gs = new Segment(0xFFFF_8880_0000_0000L, 0xFFFF, 0x2B, 3, true, 3, true, true, false, true, false);
        s.cr0 = 0x8005_0033L;
        s.cr2 = 0xDEAD_B000L;
        s.cr3 = 0x1000;
        s.cr4 = 0x20;
        s.cr8 = 2;
        s.efer = 0x500;
        return new CpuState(r, s, Fpu.reset());
    }

    private static byte[] read(CpuState s, int n) {
        byte[] out = new byte[RegisterFile.REGISTERS.get(n).bytes()];
        RegisterFile.read(s, n, out, 0);
        return out;
    }

    private static String hex(CpuState s, int n) {
        return HexFormat.of().formatHex(read(s, n));
    }

    @Test
    void theTableIsGdbsAmd64Layout() {
        assertEquals(65, RegisterFile.count());
        assertEquals("rbp", RegisterFile.REGISTERS.get(6).name());
        assertEquals("rip", RegisterFile.REGISTERS.get(16).name());
        assertEquals("st0", RegisterFile.REGISTERS.get(24).name());
        assertEquals("xmm0", RegisterFile.REGISTERS.get(40).name());
        assertEquals("mxcsr", RegisterFile.REGISTERS.get(56).name());
        assertEquals("fs_base", RegisterFile.REGISTERS.get(57).name());
        assertEquals("efer", RegisterFile.REGISTERS.get(64).name());
        assertEquals(16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 2 * 8 + 6 * 8, RegisterFile.totalBytes());
    }

    @Test
    void generalRegistersSwapRspAndRbpAndSegmentsGiveSelectorsAndBases() {
        CpuState s = state();
        assertEquals(s.regs.get(Registers.RBP), RegisterFile.get(read(s, 6), 0, 8));
        assertEquals(s.regs.get(Registers.RSP), RegisterFile.get(read(s, 7), 0, 8));
        assertEquals("08000000", hex(s, RegisterFile.CS));
        assertEquals("2b000000", hex(s, RegisterFile.CS + 5));
        assertEquals(0x7000_0000L, RegisterFile.get(read(s, RegisterFile.FS_BASE), 0, 8));
        assertEquals(0xFFFF_8880_0000_0000L, RegisterFile.get(read(s, RegisterFile.FS_BASE + 1), 0, 8));
        assertEquals(0x8005_0033L, RegisterFile.get(read(s, RegisterFile.CR0), 0, 8));
        assertEquals(0x500, RegisterFile.get(read(s, RegisterFile.CR0 + 5), 0, 8));
        assertEquals(4, read(s, RegisterFile.EFLAGS).length);
    }

    @Test
    void everyRegisterRoundTripsThroughWrite() {
        for (int n = 0; n < RegisterFile.count(); n++) {
            CpuState s = state();
            byte[] v = new byte[RegisterFile.REGISTERS.get(n).bytes()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (byte) (0x11 * (i + 1) + n);
            }
            if (n == RegisterFile.EFLAGS) {
                v[0] |= 2; // the reserved bit reads 1
            }
            if (n >= RegisterFile.CS && n < RegisterFile.ST0) {
                v[2] = v[3] = 0; // selectors are 16 bits
            }
            if (n == RegisterFile.FCTRL || n == RegisterFile.FCTRL + 1 || n == RegisterFile.FCTRL + 3
                    || n == RegisterFile.FCTRL + 5) {
                v[2] = v[3] = 0; // 16-bit fields
            }
            if (n == RegisterFile.FCTRL + 7) {
                v[1] &= 0x7;
                v[2] = v[3] = 0; // 11-bit opcode
            }
            if (n == RegisterFile.FCTRL + 2) {
                continue; // the tag word: see below
            }
            RegisterFile.write(s, n, v, 0);
            assertArrayEquals(v, read(s, n), RegisterFile.REGISTERS.get(n).name());
        }
    }

    @Test
    void writesSayWhichRegisterSetChanged() {
        CpuState s = state();
        assertEquals(CpuState.Part.GENERAL, RegisterFile.write(s, 0, new byte[8], 0));
        assertEquals(CpuState.Part.SPECIAL, RegisterFile.write(s, RegisterFile.CS + 4, new byte[4], 0));
        assertEquals(CpuState.Part.FPU, RegisterFile.write(s, RegisterFile.XMM0, new byte[16], 0));
        assertEquals(CpuState.Part.SPECIAL, RegisterFile.write(s, RegisterFile.CR0 + 2, new byte[8], 0));
        assertEquals(0, s.sregs.cr3);
        assertEquals(0x7000_0000L, s.sregs.fs.base(), "a selector write keeps the base");
    }

    @Test
    void eflagsWritesKeepTheUpperHalfOfRflags() {
        CpuState s = state();
        s.regs.set(Registers.RFLAGS, 0x1_0000_0002L);
        RegisterFile.write(s, RegisterFile.EFLAGS, new byte[] {0, 2, 0, 0}, 0);
        assertEquals(0x1_0000_0202L, s.regs.get(Registers.RFLAGS));
    }

    @Test
    void theFullTagWordClassifiesEachRegister() {
        Fpu f = Fpu.reset();
        f.fsw = 6 << 11; // TOP = 6: ST(0) is R6, ST(1) is R7, ST(2) is R0
        f.ftwx = 0b1100_0001; // R0, R6, R7 in use
        byte[] one = {0, 0, 0, 0, 0, 0, 0, (byte) 0x80, (byte) 0xFF, 0x3F}; // 1.0
        System.arraycopy(one, 0, f.fpr, 0, 10);                           // ST(0) = R6: valid
        // ST(1) = R7: zero (all bytes 0)
        byte[] inf = {0, 0, 0, 0, 0, 0, 0, (byte) 0x80, (byte) 0xFF, 0x7F};
        System.arraycopy(inf, 0, f.fpr, 32, 10);                          // ST(2) = R0: special
        int expected = X87Tags.SPECIAL | 0b11_1111_1111 << 2 | X87Tags.VALID << 12 | X87Tags.ZERO << 14;
        assertEquals(expected, X87Tags.full(f));
        assertEquals(0b1100_0001, X87Tags.abridged(expected));
        CpuState s = state();
        RegisterFile.write(s, RegisterFile.FCTRL + 2, new byte[] {(byte) 0xFF, (byte) 0x3F, 0, 0}, 0);
        assertEquals(0b1000_0000, s.fpu.ftwx, "only R7 is not empty");
        assertEquals(X87Tags.ZERO, X87Tags.classify(new byte[10], 0));
        assertEquals(X87Tags.SPECIAL, X87Tags.classify(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0), "denormal");
        assertEquals(X87Tags.SPECIAL, X87Tags.classify(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0), "unnormal");
    }
}
