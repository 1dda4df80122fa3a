package org.jbhyve.gdb;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.memory.GuestMemoryException;

/**
 * The packets answered while the guest is stopped: queries, threads, registers, memory and
 * breakpoints (gdb manual, "Packets" and "General Query Packets"). Each packet gets exactly
 * one reply; nothing here resumes the guest. Threads are vCPUs: thread id {@code n} (hex, from
 * 1) is vCPU {@code n - 1}; {@code -1} means all, {@code 0} any.
 *
 * <p>Error replies carry a Linux errno in hex: {@code E16} (EINVAL) for a packet that cannot
 * be parsed or names a thread or register that does not exist, {@code E0e} (EFAULT) for an
 * address that is unmapped or not RAM, {@code E1c} (ENOSPC) when the debug registers are all
 * held by hardware breakpoints and watchpoints (software breakpoints give theirs up, see
 * {@link Breakpoints}), {@code E05} (EIO) when the VM did not answer. An empty reply means
 * "not supported".
 */
final class Commands {
    private static final LazyLogger LOG = new LazyLogger(Commands.class);
    static final String INVALID = "E16", FAULT = "E0e", NO_SPACE = "E1c", TARGET = "E05";
    /** The most memory one {@code m} reply carries: two hex digits a byte within the packet size. */
    static final int MAX_READ = (PacketReader.MAX_PAYLOAD - 4) / 2;

    private final DebugTarget target;
    private final Breakpoints breakpoints;
    private final VirtualMemory memory;
    private final Map<Integer, CpuState> states = new HashMap<>();
    private int general;   // Hg: registers, memory (its page tables), breakpoints
    private int resumeThread = -1; // Hc: the thread legacy c/s act on; -1 all

    Commands(DebugTarget target, Breakpoints breakpoints) {
        this.target = target;
        this.breakpoints = breakpoints;
        this.memory = new VirtualMemory(target.memory(), breakpoints);
    }

    /** The vCPU that registers and memory refer to. */
    int current() {
        return general;
    }

    /** After a stop: the stopped vCPU becomes the current one; cached states are stale. */
    void stoppedAt(int vcpu) {
        general = vcpu;
        resumeThread = -1;
        states.clear();
    }

    /** The vCPUs are about to run: cached states are stale. */
    void forget() {
        states.clear();
    }

    /** The vCPU that legacy {@code c}/{@code s} act on. */
    int resumeThread() {
        return resumeThread < 0 ? general : resumeThread;
    }

    /** The state of a held vCPU, read once per stop. */
    CpuState state(int vcpu) {
        CpuState s = states.get(vcpu);
        if (s == null) {
            s = target.read(vcpu);
            states.put(vcpu, s);
        }
        return s;
    }

    /** Writes back an edited state. */
    void commit(int vcpu, Set<CpuState.Part> parts) {
        if (!parts.isEmpty()) {
            target.write(vcpu, state(vcpu), parts);
        }
    }

    /** The reply to {@code packet}; never throws for a bad packet or a failing target. */
    String answer(String packet) {
        try {
            return dispatch(packet);
        } catch (Hex.BadPacketException | IndexOutOfBoundsException | NumberFormatException e) {
            return INVALID;
        } catch (PageWalker.UnmappedException | GuestMemoryException e) {
            return FAULT;
        } catch (DebugTarget.TargetException e) {
            return TARGET;
        } catch (RuntimeException e) { // a bug here must not end the session with the guest held
            LOG.get().log(Level.WARNING, "gdb: request '" + Hex.abbreviate(packet) + "' failed", e);
            return TARGET;
        }
    }

    private String dispatch(String p) {
        if (p.isEmpty()) {
            return "";
        }
        return switch (p.charAt(0)) {
            case 'g' -> p.length() == 1 ? readAll() : INVALID;
            case 'G' -> writeAll(p.substring(1));
            case 'p' -> readOne(p.substring(1));
            case 'P' -> writeOne(p.substring(1));
            case 'm' -> readMemory(p.substring(1));
            case 'M' -> writeMemory(p.substring(1), false);
            case 'X' -> writeMemory(p.substring(1), true);
            case 'Z' -> breakpoint(p.substring(1), true);
            case 'z' -> breakpoint(p.substring(1), false);
            case 'H' -> selectThread(p.substring(1));
            case 'T' -> vcpu(thread(p.substring(1))) >= 0 ? "OK" : INVALID;
            case 'q' -> Queries.answer(this, p);
            case 'v' -> p.equals("vCont?") ? "vCont;c;C;s;S" : "";
            default -> "";
        };
    }

    int vcpuCount() {
        return target.vcpuCount();
    }

    /**
     * A thread id as the protocol writes it: {@code -1}, {@code 0}, hex, or {@code pPID.TID}
     * (multiprocess syntax, accepted though not asked for). Returns -1 for all, 0 for any, else
     * the id.
     */
    static long thread(String s) {
        if (s.startsWith("p")) {
            int dot = s.indexOf('.');
            s = dot < 0 ? "-1" : s.substring(dot + 1);
        }
        if (s.equals("-1")) {
            return -1;
        }
        return Hex.parseLong(s);
    }

    /** The vCPU of a specific thread id, or -1 when there is no such thread. */
    int vcpu(long thread) {
        return thread >= 1 && thread <= target.vcpuCount() ? (int) (thread - 1) : -1;
    }

    private String selectThread(String s) {
        if (s.isEmpty() || (s.charAt(0) != 'g' && s.charAt(0) != 'c')) {
            return INVALID;
        }
        long t = thread(s.substring(1));
        int v = t <= 0 ? -1 : vcpu(t);
        if (t > 0 && v < 0) {
            return INVALID;
        }
        if (s.charAt(0) == 'g') {
            general = v < 0 ? general : v;
        } else {
            resumeThread = v;
        }
        return "OK";
    }

    private String readAll() {
        CpuState s = state(general);
        byte[] out = new byte[RegisterFile.totalBytes()];
        int off = 0;
        for (int n = 0; n < RegisterFile.count(); n++) {
            RegisterFile.read(s, n, out, off);
            off += RegisterFile.REGISTERS.get(n).bytes();
        }
        return Hex.encode(out);
    }

    private String writeAll(String hex) {
        byte[] in = Hex.decode(hex);
        if (in.length != RegisterFile.totalBytes()) {
            return INVALID;
        }
        CpuState s = state(general);
        Set<CpuState.Part> parts = EnumSet.noneOf(CpuState.Part.class);
        int off = 0;
        for (int n = 0; n < RegisterFile.count(); n++) {
            parts.add(RegisterFile.write(s, n, in, off));
            off += RegisterFile.REGISTERS.get(n).bytes();
        }
        commit(general, parts);
        return "OK";
    }

    private String readOne(String arg) {
        int n = Hex.parseInt(arg, Integer.MAX_VALUE);
        if (n >= RegisterFile.count()) {
            return INVALID;
        }
        byte[] out = new byte[RegisterFile.REGISTERS.get(n).bytes()];
        RegisterFile.read(state(general), n, out, 0);
        return Hex.encode(out);
    }

    private String writeOne(String arg) {
        int eq = arg.indexOf('=');
        int n = Hex.parseInt(arg.substring(0, Math.max(eq, 0)), Integer.MAX_VALUE);
        byte[] value = Hex.decode(arg.substring(eq + 1));
        if (n >= RegisterFile.count() || value.length != RegisterFile.REGISTERS.get(n).bytes()) {
            return INVALID;
        }
        commit(general, EnumSet.of(RegisterFile.write(state(general), n, value, 0)));
        return "OK";
    }

    private String readMemory(String arg) {
        int comma = arg.indexOf(',');
        long address = Hex.parseLong(arg.substring(0, Math.max(comma, 0)));
        long length = Hex.parseLong(arg.substring(comma + 1));
        int want = Long.compareUnsigned(length, MAX_READ) > 0 ? MAX_READ : (int) length; // gdb takes short reads
        if (want == 0) {
            return "";
        }
        return Hex.encode(memory.read(state(general).paging(), address, want));
    }

    /** {@code M addr,len:hex} or (binary) {@code X addr,len:bytes}. */
    private String writeMemory(String arg, boolean binary) {
        int comma = arg.indexOf(',');
        int colon = arg.indexOf(':', Math.max(comma, 0));
        long address = Hex.parseLong(arg.substring(0, Math.max(comma, 0)));
        int length = Hex.parseInt(arg.substring(comma + 1, Math.max(colon, comma + 1)), PacketReader.MAX_PAYLOAD);
        String data = arg.substring(colon + 1);
        byte[] bytes = binary ? data.getBytes(StandardCharsets.ISO_8859_1) : Hex.decode(data);
        if (colon < 0 || bytes.length != length) {
            return INVALID;
        }
        if (length > 0) {
            memory.write(state(general).paging(), address, bytes);
        }
        return "OK";
    }

    /** {@code Z type,addr,kind} and {@code z ...}: 0 software, 1 hardware, 2-4 watchpoints. */
    private String breakpoint(String arg, boolean insert) {
        int semi = arg.indexOf(';'); // target-side conditions: not offered, ignored
        String[] f = (semi < 0 ? arg : arg.substring(0, semi)).split(",", -1);
        if (f.length != 3) {
            return INVALID;
        }
        int type = Hex.parseInt(f[0], 15);
        long address = Hex.parseLong(f[1]);
        int kind = Hex.parseInt(f[2], 0xFFFF);
        if (type > Breakpoints.ACCESS) {
            return "";
        }
        if (type == 0) {
            if (!insert) {
                breakpoints.removeSoftware(address);
                return "OK";
            }
            long physical = memory.physical(state(general).paging(), address);
            return breakpoints.insertSoftware(address, physical) ? "OK" : NO_SPACE;
        }
        if (!insert) {
            breakpoints.removeHardware(type, address, kind);
            return "OK";
        }
        return breakpoints.insertHardware(type, address, kind) ? "OK" : NO_SPACE;
    }
}
