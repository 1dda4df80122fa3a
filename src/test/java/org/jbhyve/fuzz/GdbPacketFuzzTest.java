package org.jbhyve.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jbhyve.gdb.CpuState;
import org.jbhyve.gdb.DebugTarget;
import org.jbhyve.gdb.GuestDebug;
import org.jbhyve.gdb.StopListener;
import org.jbhyve.kvm.Fpu;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/**
 * gdb's remote serial protocol, as the {@code -G} server's session reads it. The input is the
 * byte stream from gdb; when it starts with 'F' the rest is a list of payloads, one a line,
 * framed here as {@code $payload#cc} with the right checksum (so mutations reach the commands
 * rather than only the framing). Seeds are a real gdb's conversation: qSupported, registers,
 * memory reads and writes (hex and binary), breakpoints and watchpoints, threads, target.xml,
 * vCont, continue and interrupt. The session runs over the stream against a two-vCPU target
 * with 1 MiB of RAM that never fails, until the stream ends.
 *
 * <p>A crash is: an exception out of the session; the session not ending when the stream ends;
 * a reply of E05 (the session's answer when a request failed inside it, logged with the
 * exception, which the target here never causes); or a fresh session (after every 8th input) not answering
 * '?' and 'g'.
 */
class GdbPacketFuzzTest {
    private static final List<String> SEED_SESSIONS = List.of(
            "F+\nqSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;xmlRegisters=i386\nQStartNoAckMode\n?\n"
                    + "qXfer:features:read:target.xml:0,ffb\nqfThreadInfo\nqsThreadInfo\nHg2\ng\nm1000,40\nqC\nHc-1",
            "F?\nM1000,4:90909090\nm1000,4\nX2000,3:abc\nP10=0010000000000000\np10\np0\np40\nG" + "00".repeat(560),
            "FZ0,1000,1\nz0,1000,1\nZ1,1000,1\nZ2,2000,8\nZ3,3000,4\nZ4,3000,2\nz2,2000,8\nvCont?\nT1\nT2\nT3",
            "FqThreadExtraInfo,1\nqAttached\nqOffsets\nqSymbol::\nvMustReplyEmpty\nqTStatus\nqXfer:features:read:i386-64bit.xml:0,100",
            "FHc1\ns\nvCont;s:1;c\nc\nvCtrlC\nD",
            "+$g#67+$m0,10#2a$Z0,1000,1#8c-\u0003$?#3f+",
            "FM0,10:00112233445566778899aabbccddeeff\nm0,10\nmffff0,20\nM1000,0:\nmfffffffffffffff0,10\nk");

    /** A target that never fails: registers and RAM only, resuming changes nothing. */
    static final class QuietTarget implements DebugTarget {
        final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, MemorySegment.ofArray(new byte[1 << 20]))));
        private final CpuState[] cpus = new CpuState[2];

        QuietTarget() {
            for (int i = 0; i < cpus.length; i++) {
                Registers r = new Registers();
                r.set(Registers.RIP, 0x1000).set(Registers.RFLAGS, 2).set(Registers.RSP, 0x8000);
                SpecialRegisters s = new SpecialRegisters();
                s.cs = Segment.flatCode(8, false);
                s.setDataSegments(Segment.flatData(16));
                s.cr0 = SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET;
                cpus[i] = new CpuState(r, s, Fpu.reset());
            }
        }

        @Override
        public int vcpuCount() {
            return cpus.length;
        }

        @Override
        public GuestMemory memory() {
            return memory;
        }

        @Override
        public void listen(StopListener listener) {
        }

        @Override
        public void stopAll() {
        }

        @Override
        public CpuState read(int vcpu) {
            return cpus[vcpu];
        }

        @Override
        public void write(int vcpu, CpuState state, Set<CpuState.Part> parts) {
            cpus[vcpu] = state;
        }

        @Override
        public void resume(GuestDebug debug, Map<Integer, Boolean> run) {
        }

        @Override
        public void kill() {
        }
    }

    /** The bytes gdb would send for {@code input}. */
    static byte[] stream(byte[] input) {
        if (input.length == 0 || input[0] != 'F') {
            return input;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int start = 1;
        for (int i = 1; i <= input.length; i++) {
            if (i == input.length || input[i] == '\n') {
                int sum = 0;
                out.write('$');
                for (int j = start; j < i; j++) {
                    out.write(input[j]);
                    sum += input[j] & 0xFF;
                }
                out.writeBytes(String.format("#%02x", sum & 0xFF).getBytes(StandardCharsets.US_ASCII));
                start = i + 1;
            }
        }
        return out.toByteArray();
    }

    static final class Target implements Fuzz.Target {
        private final Constructor<?> session;
        private final Method run;
        private final QuietTarget target = new QuietTarget();
        private int inputs;

        Target() throws ReflectiveOperationException {
            Class<?> c = Class.forName("org.jbhyve.gdb.GdbSession");
            session = c.getDeclaredConstructor(DebugTarget.class, InputStream.class, OutputStream.class);
            session.setAccessible(true);
            run = c.getDeclaredMethod("run");
            run.setAccessible(true);
        }

        @Override
        public List<byte[]> seeds() {
            List<byte[]> s = new ArrayList<>();
            for (String t : SEED_SESSIONS) {
                s.add(t.getBytes(StandardCharsets.ISO_8859_1));
            }
            return s;
        }

        /** Serves {@code in} to a new session until it ends; returns what the session sent. */
        private String serve(byte[] in) throws Throwable {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Object s = session.newInstance(target, new ByteArrayInputStream(in), out);
            try {
                run.invoke(s);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void run(byte[] input) throws Exception {
            try {
                String replies = serve(stream(input));
                if (replies.contains("$E05#")) {
                    throw new AssertionError("a request failed inside the session: " + replies);
                }
                if (++inputs % 8 != 0) {
                    return;
                }
                String health = serve(stream("F?\ng".getBytes(StandardCharsets.US_ASCII)));
                if (!health.matches("(?s)\\+*\\$[TS][0-9a-f]{2}.*\\$[0-9a-fx]+#.*")) {
                    throw new AssertionError("a fresh session answers '?' and 'g' with " + health);
                }
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    @Test
    void hostilePacketsGetAnAnswerNotAnError() throws Exception {
        Fuzz.check("gdb packets", 2000, new Target());
    }
}
