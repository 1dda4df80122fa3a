package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.kvm.Registers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Debian's gdb against the server and a simulated two-vCPU guest: what a user types, what gdb
 * prints. vCPU 0 runs a small program (nops, a byte store, hlt); vCPU 1 spins on {@code jmp .}.
 */
class RealGdbTest {
    /** nop; nop; nop; mov byte [0x12000], 42; nop; nop; hlt. */
    private static final int[] PROGRAM = {0x90, 0x90, 0x90, 0xC6, 0x04, 0x25, 0x00, 0x20, 0x01, 0x00, 0x2A, 0x90,
        0x90, 0xF4};
    private static final long ENTRY = 0x10000;

    private FakeTarget target;
    private GdbServer server;

    @BeforeAll
    static void gdbIsThere() {
        RealGdb.require();
    }

    private int start(int[] program) throws IOException {
        target = new FakeTarget(ENTRY, 0x11000);
        target.load(ENTRY, program);
        target.load(0x11000, 0xEB, 0xFE);
        server = GdbServer.listen("127.0.0.1", 0);
        target.onEnd = server::vmEnded;
        server.start(target);
        return server.localAddress().getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (target != null) {
            target.end(0);
        }
    }

    private static List<String> session(int port, String... commands) {
        List<String> all = new ArrayList<>(List.of("set pagination off", "set confirm off",
                "set architecture i386:x86-64", "target remote 127.0.0.1:" + port));
        all.addAll(List.of(commands));
        return all;
    }

    /**
     * {@code break} in a debug register, or (the four taken by {@code hbreak}s at addresses
     * nothing executes) planted as an int3, which the host sees as an emulation failure or an
     * intercepted #BP.
     */
    @ParameterizedTest(name = "break as {0}")
    @ValueSource(strings = {"a debug register", "an int3 seen as an emulation failure",
        "an int3 seen as an intercepted #BP"})
    void waitAtEntryBreakReadStepWatchAndRunToTheEnd(String how) throws IOException {
        int port = start(PROGRAM);
        boolean int3 = how.contains("int3");
        target.int3Intercepted = how.contains("#BP");
        List<String> commands = new ArrayList<>();
        if (int3) {
            for (int i = 0; i < 4; i++) {
                commands.add("hbreak *0x" + Integer.toHexString(0x13000 + i));
            }
        }
        commands.addAll(List.of("info registers rip", "info threads", "break *0x10002", "continue",
                "x/4xb 0x10002", "info registers rip", "stepi", "info registers rip"));
        if (int3) {
            commands.add("delete 1-4");
        }
        commands.addAll(List.of("watch *(char*)0x12000", "continue", "delete", "continue"));
        int number = int3 ? 5 : 1;
        RealGdb g = RealGdb.run(session(port, commands.toArray(String[]::new)));
        String out = g.output;
        assertTrue(out.contains("rip            0x10000"), "stopped at the entry before anything ran\n" + g);
        assertTrue(out.contains("Thread 1 (vCPU 0)") && out.contains("Thread 2 (vCPU 1)"), g::toString);
        assertTrue(out.contains("Breakpoint " + number + ", 0x0000000000010002 in ?? ()"), g::toString);
        assertNotNull(g.line("0x10002:\t0x90\t0xc6\t0x04\t0x25"), "the original bytes, not 0xcc\n" + g);
        assertTrue(out.contains("rip            0x10002"), g::toString);
        assertTrue(out.contains("rip            0x10003"), "stepi went one instruction\n" + g);
        assertTrue(out.contains("Hardware watchpoint " + (number + 1) + ": *(char*)0x12000"), g::toString);
        assertTrue(out.contains("Old value = 0 '\\000'") && out.contains("New value = 42 '*'"), g::toString);
        assertTrue(out.contains("exited with code 01"), "continue ran to the VM's end\n" + g);
        assertEquals((byte) 0x90, target.ram[0x10002], "no int3 left behind");
        assertEquals(1, target.endStatus);
    }

    @Test
    void hardwareBreakpointsRegistersMemoryAndTheHighMapping() throws IOException {
        int port = start(PROGRAM);
        RealGdb g = RealGdb.run(session(port, "hbreak *0x10003", "continue", "info registers rip",
                "set $rax = 0x1234", "p/x $rax", "set {char}0x12001 = 0x55", "x/1xb 0x12001",
                "x/2xb 0xffffffff80010003", "p/x $cr3", "p/x $efer", "p/x $fs_base", "p $xmm0.uint128",
                "info registers eflags", "thread 2", "info registers rip", "detach"));
        String out = g.output;
        assertTrue(out.contains("Hardware assisted breakpoint 1 at 0x10003"), g::toString);
        assertTrue(out.contains("rip            0x10003"), g::toString);
        assertTrue(out.contains("$1 = 0x1234"), g::toString);
        assertNotNull(g.line("0x12001:\t0x55"), g::toString);
        assertNotNull(g.line("0xffffffff80010003:\t0xc6\t0x04"), g::toString);
        assertTrue(out.contains("$2 = 0x1000"), "cr3\n" + g);
        assertTrue(out.contains("$3 = 0x500"), "efer\n" + g);
        assertTrue(out.contains("$4 = 0x0"), "fs_base\n" + g);
        assertTrue(out.contains("$5 = 0"), "xmm0\n" + g);
        assertTrue(out.contains("eflags         0x2"), g::toString);
        assertTrue(out.contains("rip            0x11000"), "vCPU 1 is thread 2\n" + g);
        assertEquals(0x1234, target.cpus.get(0).state.regs.get(Registers.RAX));
        assertEquals(0x55, target.ram[0x12001]);
    }

    @Test
    void detachLetsTheGuestRunAndASecondGdbStopsItAgain() throws Exception {
        int port = start(new int[] {0x90, 0x90, 0x90, 0x90, 0xEB, 0xFA}); // a loop at 0x10000..0x10005
        RealGdb first = RealGdb.run(session(port, "break *0x10002", "continue", "x/1xb 0x10002", "detach"));
        assertTrue(first.output.contains("Breakpoint 1, 0x0000000000010002"), first::toString);
        assertNotNull(first.line("0x10002:\t0x90"), first::toString);
        assertTrue(first.output.contains("(Remote target) detached]"), first::toString);
        Thread.sleep(100);
        assertFalse(target.allParked(), "after detach the guest runs");
        assertEquals((byte) 0x90, target.ram[0x10002]);

        RealGdb second = RealGdb.run(session(port, "info threads", "break *0x10001", "continue",
                "info registers rip", "stepi", "info registers rip", "detach"));
        assertTrue(second.output.contains("Breakpoint 1, 0x0000000000010001"), second::toString);
        assertTrue(second.output.contains("rip            0x10002"), second::toString);
        assertTrue(second.output.contains("Thread 2 (vCPU 1)"), second::toString);
        Thread.sleep(100);
        assertFalse(target.allParked());
        assertEquals((byte) 0x90, target.ram[0x10001]);
    }

    @Test
    void ctrlCStopsARunningGuest() throws Exception {
        int port = start(new int[] {0x90, 0x90, 0x90, 0x90, 0xEB, 0xFA});
        RealGdb g = RealGdb.run(session(port, "continue", "info registers rip", "detach"), 1500);
        assertTrue(g.output.contains("received signal SIGINT"), g::toString);
        String rip = g.line("rip            0x1000");
        assertNotNull(rip, "stopped inside the loop\n" + g);
    }
}
