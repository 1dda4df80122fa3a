package org.jbhyve.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The seccomp filter: its verdicts, found by running the BPF program here on made-up
 * {@code seccomp_data}, and its effect on a real JVM ({@link SeccompProbe} in a child process).
 */
class SeccompTest {
    private static final int AUDIT_ARCH_I386 = 0x40000003;
    private static final int SYS_READ = 0;
    private static final int SYS_EXECVE = 59;
    private static final int PTHREAD_FLAGS = 0x3d0f00; // glibc's pthread_create: CLONE_VM|...|CLONE_THREAD|...
    private static final int FORK_FLAGS = 0x01200011; // glibc's fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    private static final int EPERM = Seccomp.SECCOMP_RET_ERRNO | Errno.EPERM;

    /** Runs the filter on a system call as the kernel would; returns the verdict. */
    private static int verdict(int arch, int nr, long arg0) {
        List<Seccomp.Instruction> program = Seccomp.filter();
        int a = 0;
        for (int pc = 0; ; pc++) {
            Seccomp.Instruction in = program.get(pc);
            switch (in.code()) {
                case Seccomp.LD_W_ABS -> a = switch (in.k()) {
                    case Seccomp.OFFSET_NR -> nr;
                    case Seccomp.OFFSET_ARCH -> arch;
                    case Seccomp.OFFSET_ARGS -> (int) arg0;
                    default -> throw new AssertionError("load from " + in.k());
                };
                case Seccomp.JMP_JEQ_K -> pc += a == in.k() ? in.jt() : in.jf();
                case Seccomp.JMP_JSET_K -> pc += (a & in.k()) != 0 ? in.jt() : in.jf();
                case Seccomp.RET_K -> {
                    return in.k();
                }
                default -> throw new AssertionError("opcode " + in.code());
            }
        }
    }

    private static int verdict(int nr) {
        return verdict(Seccomp.AUDIT_ARCH_X86_64, nr, 0);
    }

    @Test
    void everyDeniedCallFailsWithEpermAndOthersAreAllowed() {
        Seccomp.DENIED.forEach((name, nr) -> assertEquals(EPERM, verdict(nr), name));
        // read, write, mmap, ioctl, futex, clock_gettime, epoll_wait, rseq
        for (int nr : List.of(SYS_READ, 1, 9, 16, 202, 228, 232, 334)) {
            assertEquals(Seccomp.SECCOMP_RET_ALLOW, verdict(nr), "syscall " + nr);
        }
    }

    @Test
    void cloneMakesThreadsButNotProcessesAndClone3FallsBack() {
        assertEquals(Seccomp.SECCOMP_RET_ALLOW, verdict(Seccomp.AUDIT_ARCH_X86_64, Seccomp.SYS_CLONE, PTHREAD_FLAGS));
        assertEquals(EPERM, verdict(Seccomp.AUDIT_ARCH_X86_64, Seccomp.SYS_CLONE, FORK_FLAGS));
        assertEquals(EPERM, verdict(Seccomp.AUDIT_ARCH_X86_64, Seccomp.SYS_CLONE, 0x4111)); // posix_spawn: CLONE_VM|CLONE_VFORK|SIGCHLD
        assertEquals(Seccomp.SECCOMP_RET_ERRNO | Errno.ENOSYS, verdict(Seccomp.SYS_CLONE3));
    }

    @Test
    void buildingWithoutInstallingEncodesTheWholeProgramAndLeavesThisProcessFree() throws Exception {
        List<String> before = seccompStatus();
        assertEquals(Seccomp.filter().size(), Seccomp.buildWithoutInstalling());
        assertEquals(before, seccompStatus()); // no filter added, no_new_privs untouched
    }

    @Test
    void otherEntryPointsKill() {
        assertEquals(Seccomp.SECCOMP_RET_KILL_PROCESS, verdict(AUDIT_ARCH_I386, 11, 0)); // i386 execve
        assertEquals(Seccomp.SECCOMP_RET_KILL_PROCESS, verdict(Seccomp.X32_SYSCALL_BIT | 520)); // x32 execve
        assertEquals(Seccomp.SECCOMP_RET_KILL_PROCESS, verdict(Seccomp.X32_SYSCALL_BIT | SYS_READ));
        assertEquals(EPERM, verdict(SYS_EXECVE));
    }

    @Test
    void aJvmUnderTheFilterMakesThreadsAndReadsFilesButStartsNoProgram() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), SeccompProbe.class.getName())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, child.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertEquals(List.of("installed", "thread ran"), lines.subList(0, 2), out);
        assertTrue(lines.get(2).startsWith("process refused: ") && lines.get(2).contains("Operation not permitted"),
                out);
        assertEquals(List.of("status NoNewPrivs: 1", "status Seccomp: 2"), lines.subList(3, lines.size()), out);
    }

    private static List<String> seccompStatus() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Seccomp") || l.startsWith("NoNewPrivs")).toList();
    }
}
