package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A seccomp filter that takes from the VMM the system calls a VMM never needs: once it is
 * installed, a guest that gains control of the process cannot start programs, debug other
 * processes, mount file systems or load kernel code.
 *
 * <h2>Why a deny list</h2>
 * An allow list (name every call the process may make) is the tighter design, and what a VMM
 * written in C can afford. Here the process is a JVM: its garbage collectors, JIT compilers,
 * class loading, NIO and the C library make calls that change between JDK and glibc releases
 * (madvise flavours, membarrier, rseq, clone3, statx...), and a missed one kills the VMM in
 * some rare path. So this filter allows everything except calls that only serve an attacker:
 * <ul>
 * <li>{@code execve, execveat}: run another program, the usual next step of an exploit;</li>
 * <li>{@code fork, vfork}, {@code clone} without {@code CLONE_THREAD}: make a process
 * (which would then exec, or outlive the VMM); {@code clone3} (below);</li>
 * <li>{@code ptrace, process_vm_readv, process_vm_writev}: read and write the memory of the
 * user's other processes;</li>
 * <li>{@code mount, umount2, pivot_root, chroot} and the new mount API ({@code open_tree,
 * move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr}): rearrange the file system
 * view;</li>
 * <li>{@code setns, unshare}: enter or make namespaces, where a user namespace hands out
 * capabilities (and with them the kernel's less travelled code);</li>
 * <li>{@code kexec_load, kexec_file_load, reboot, swapon, swapoff, init_module,
 * finit_module, delete_module}: replace or extend the kernel, stop the host (root only, but a
 * VMM run as root keeps them out of reach too);</li>
 * <li>{@code bpf, perf_event_open, userfaultfd, keyctl, add_key, request_key}: large kernel
 * interfaces with a long record of privilege-escalation bugs that the VMM does not use.</li>
 * </ul>
 * Denied calls fail with EPERM (the caller sees an ordinary error, not a dead process), so
 * {@code new ProcessBuilder(...).start()} throws an IOException "Operation not permitted".
 *
 * <h2>clone, clone3 and threads</h2>
 * Threads and processes are both made by {@code clone}; the JVM makes threads with
 * {@code CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|...}, a fork is a clone
 * without {@code CLONE_THREAD} (the kernel accepts {@code CLONE_THREAD} only together with
 * {@code CLONE_SIGHAND} and {@code CLONE_VM}, so such a child always shares this address space).
 * The filter reads the flags, the first argument, and allows the clone only with
 * {@code CLONE_THREAD}. {@code clone3} passes its flags in a struct in memory, which a filter
 * cannot read, so it answers ENOSYS: glibc (2.34 on) then falls back to {@code clone}, whose
 * flags the filter sees.
 *
 * <h2>The BPF program</h2>
 * The kernel runs a classic BPF program (include/uapi/linux/filter.h) on every system call.
 * Its input is a {@code struct seccomp_data} (include/uapi/linux/seccomp.h):
 * <pre>
 * struct seccomp_data {
 *     int   nr;                   // offset 0: the system call number
 *     __u32 arch;                 // offset 4: AUDIT_ARCH_X86_64 = 0xc000003e for 64-bit calls
 *     __u64 instruction_pointer;  // offset 8
 *     __u64 args[6];              // offset 16: args[0] at 16 (low 32 bits, little endian), args[1] at 24...
 * };
 * </pre>
 * Each instruction is a {@code struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}} (8 bytes);
 * this one uses four kinds:
 * <pre>
 * ld  [k]            BPF_LD|BPF_W|BPF_ABS  0x20  A = the 32-bit word at offset k of seccomp_data
 * jeq #k, jt, jf     BPF_JMP|BPF_JEQ|BPF_K 0x15  skip jt instructions if A == k, else jf
 * jset #k, jt, jf    BPF_JMP|BPF_JSET|BPF_K 0x45 skip jt instructions if (A &amp; k) != 0, else jf
 * ret #k             BPF_RET|BPF_K         0x06  the verdict: SECCOMP_RET_ALLOW 0x7fff0000,
 *                                                SECCOMP_RET_ERRNO 0x00050000 | errno,
 *                                                SECCOMP_RET_KILL_PROCESS 0x80000000
 * </pre>
 * Jumps only go forward (so every program ends), by at most 255 instructions. The program:
 * <pre>
 *         ld   [4]                             ; arch
 *         jeq  #AUDIT_ARCH_X86_64, 0, kill     ; a 32-bit (int 0x80) call: other numbers, kill
 *         ld   [0]                             ; nr
 *         jset #0x40000000, kill, 0            ; an x32 call: same arch, numbers | 0x40000000
 *         jeq  #__NR_clone, clone, 0
 *         jeq  #__NR_clone3, enosys, 0
 *         jeq  #__NR_execve, deny, 0           ; ... one jeq for each denied call
 *         ret  #SECCOMP_RET_ALLOW
 * clone:  ld   [16]                            ; flags, the low half of args[0]
 *         jset #CLONE_THREAD, 0, deny
 *         ret  #SECCOMP_RET_ALLOW
 * deny:   ret  #SECCOMP_RET_ERRNO | EPERM
 * enosys: ret  #SECCOMP_RET_ERRNO | ENOSYS
 * kill:   ret  #SECCOMP_RET_KILL_PROCESS
 * </pre>
 * The architecture check comes first because system call numbers differ between the x86-64,
 * i386 and x32 entry points, all open to a 64-bit process: without it, execve would simply be
 * called by its i386 number (11).
 *
 * <h2>Installing</h2>
 * {@code prctl(PR_SET_NO_NEW_PRIVS, 1)} first: an unprivileged process may install a filter
 * only once it can no longer gain privileges through exec (a setuid program), and it stays so.
 * Then {@code seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)} with a
 * {@code struct sock_fprog {u16 len; struct sock_filter *filter}}: TSYNC puts the filter (and
 * no_new_privs) on every thread of the process, not only the calling one; the JVM has a dozen
 * threads by then. Filters cannot be removed, and threads created later inherit them.
 * {@code /proc/PID/status} then shows {@code Seccomp: 2} and {@code NoNewPrivs: 1}.
 *
 * <p>io_uring operations run in kernel workers and are not filtered; none of them starts a
 * program or makes a process.
 */
public final class Seccomp {
    static final int LD_W_ABS = 0x20;
    static final int JMP_JEQ_K = 0x15;
    static final int JMP_JSET_K = 0x45;
    static final int RET_K = 0x06;

    static final int SECCOMP_RET_KILL_PROCESS = 0x80000000;
    static final int SECCOMP_RET_ERRNO = 0x00050000;
    static final int SECCOMP_RET_ALLOW = 0x7fff0000;

    static final int OFFSET_NR = 0;
    static final int OFFSET_ARCH = 4;
    static final int OFFSET_ARGS = 16;
    static final int AUDIT_ARCH_X86_64 = 0xc000003e;
    static final int X32_SYSCALL_BIT = 0x40000000;
    static final int CLONE_THREAD = 0x00010000;

    static final int SYS_CLONE = 56;
    static final int SYS_CLONE3 = 435;
    /** The denied x86-64 system calls by name (arch/x86/entry/syscalls/syscall_64.tbl). */
    static final Map<String, Integer> DENIED = Map.ofEntries(
            Map.entry("fork", 57), Map.entry("vfork", 58), Map.entry("execve", 59), Map.entry("execveat", 322),
            Map.entry("ptrace", 101), Map.entry("process_vm_readv", 310), Map.entry("process_vm_writev", 311),
            Map.entry("pivot_root", 155), Map.entry("chroot", 161), Map.entry("mount", 165),
            Map.entry("umount2", 166), Map.entry("open_tree", 428), Map.entry("move_mount", 429),
            Map.entry("fsopen", 430), Map.entry("fsconfig", 431), Map.entry("fsmount", 432),
            Map.entry("fspick", 433), Map.entry("mount_setattr", 442),
            Map.entry("swapon", 167), Map.entry("swapoff", 168), Map.entry("reboot", 169),
            Map.entry("init_module", 175), Map.entry("delete_module", 176), Map.entry("finit_module", 313),
            Map.entry("kexec_load", 246), Map.entry("kexec_file_load", 320),
            Map.entry("add_key", 248), Map.entry("request_key", 249), Map.entry("keyctl", 250),
            Map.entry("unshare", 272), Map.entry("setns", 308), Map.entry("perf_event_open", 298),
            Map.entry("bpf", 321), Map.entry("userfaultfd", 323));

    private static final long SYS_PRCTL = 157;
    private static final long SYS_SECCOMP = 317;
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final long SOCK_FILTER_SIZE = 8;
    private static final long SOCK_FPROG_SIZE = 16;

    /** One instruction, {@code struct sock_filter}: opcode, jump offsets if true and if false, operand. */
    record Instruction(int code, int jt, int jf, int k) {}

    private Seccomp() {}

    /**
     * Sets no_new_privs and installs {@link #filter()} on every thread of this process.
     *
     * @throws SysException from prctl or seccomp: EINVAL or ENOSYS where the kernel has no
     *                      seccomp filters
     */
    public static void install() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment prog = encode(filter(), arena);
            Posix.syscall("prctl(PR_SET_NO_NEW_PRIVS)", SYS_PRCTL, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            long r = Posix.syscall("seccomp", SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
                    prog.address(), 0, 0);
            if (r != 0) { // TSYNC's failure: the id of a thread that already has a filter of its own
                throw new IllegalStateException("seccomp: thread " + r + " has a different filter");
            }
        }
    }

    /**
     * Builds the filter as {@link #install()} hands it to the kernel and drops it: for the
     * start-up cache's training run, which must not confine itself (the JVM starts a second JVM
     * to write the cache) but should have run this code, so that a VM's start finds its classes
     * in the cache rather than in the jar. Returns the number of instructions.
     */
    public static int buildWithoutInstalling() {
        try (Arena arena = Arena.ofConfined()) {
            return encode(filter(), arena).get(JAVA_SHORT, 0);
        }
    }

    /** {@code program} as a {@code struct sock_fprog} in {@code arena}, its instructions beside it. */
    private static MemorySegment encode(List<Instruction> program, Arena arena) {
        MemorySegment code = arena.allocate(SOCK_FILTER_SIZE * program.size(), 8);
        for (int i = 0; i < program.size(); i++) {
            Instruction in = program.get(i);
            long slot = SOCK_FILTER_SIZE * i;
            code.set(JAVA_SHORT, slot, (short) in.code());
            code.set(JAVA_BYTE, slot + 2, (byte) in.jt());
            code.set(JAVA_BYTE, slot + 3, (byte) in.jf());
            code.set(JAVA_INT, slot + 4, in.k());
        }
        MemorySegment prog = arena.allocate(SOCK_FPROG_SIZE, 8);
        prog.set(JAVA_SHORT, 0, (short) program.size());
        prog.set(JAVA_LONG, 8, code.address());
        return prog;
    }

    /** The program described in the class comment. */
    static List<Instruction> filter() {
        Assembler a = new Assembler();
        a.load(OFFSET_ARCH);
        a.jump(JMP_JEQ_K, AUDIT_ARCH_X86_64, null, "kill");
        a.load(OFFSET_NR);
        a.jump(JMP_JSET_K, X32_SYSCALL_BIT, "kill", null);
        a.jump(JMP_JEQ_K, SYS_CLONE, "clone", null);
        a.jump(JMP_JEQ_K, SYS_CLONE3, "enosys", null);
        List<Integer> denied = new ArrayList<>(DENIED.values());
        Collections.sort(denied);
        for (int nr : denied) {
            a.jump(JMP_JEQ_K, nr, "deny", null);
        }
        a.ret(SECCOMP_RET_ALLOW);
        a.label("clone");
        a.load(OFFSET_ARGS);
        a.jump(JMP_JSET_K, CLONE_THREAD, null, "deny");
        a.ret(SECCOMP_RET_ALLOW);
        a.label("deny");
        a.ret(SECCOMP_RET_ERRNO | Errno.EPERM);
        a.label("enosys");
        a.ret(SECCOMP_RET_ERRNO | Errno.ENOSYS);
        a.label("kill");
        a.ret(SECCOMP_RET_KILL_PROCESS);
        return a.assemble();
    }

    /** Writes BPF with named jump targets and turns the names into forward offsets at the end. */
    private static final class Assembler {
        private record Pending(int code, String ifTrue, String ifFalse, int k) {}

        private final List<Pending> code = new ArrayList<>();
        private final Map<String, Integer> labels = new HashMap<>();

        void load(int offset) {
            code.add(new Pending(LD_W_ABS, null, null, offset));
        }

        /** A conditional jump; a null target is the next instruction. */
        void jump(int op, int k, String ifTrue, String ifFalse) {
            code.add(new Pending(op, ifTrue, ifFalse, k));
        }

        void ret(int verdict) {
            code.add(new Pending(RET_K, null, null, verdict));
        }

        void label(String name) {
            labels.put(name, code.size());
        }

        List<Instruction> assemble() {
            List<Instruction> out = new ArrayList<>(code.size());
            for (int pc = 0; pc < code.size(); pc++) {
                Pending p = code.get(pc);
                out.add(new Instruction(p.code(), offset(pc, p.ifTrue()), offset(pc, p.ifFalse()), p.k()));
            }
            return out;
        }

        /** Instructions to skip after {@code pc} to reach {@code label}. */
        private int offset(int pc, String label) {
            if (label == null) {
                return 0;
            }
            int skip = labels.get(label) - (pc + 1);
            if (skip < 0 || skip > 255) {
                throw new IllegalStateException("BPF jump from " + pc + " to " + label + " out of range: " + skip);
            }
            return skip;
        }
    }
}
