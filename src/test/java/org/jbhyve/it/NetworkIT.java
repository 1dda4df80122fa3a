package org.jbhyve.it;

import org.jbhyve.testing.HostCommand;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ThreadLocalRandom;
import org.jbhyve.backend.net.TapBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code -s N,e1000,...} end to end (SPEC P11, N1, L3): the NIC on the guest's PCI bus attached to
 * a real tap (unique name, removed afterwards), and the one-line errors for unusable backends.
 */
class NetworkIT {
    private static final String TAP = "jbi" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    private static String probe;

    @BeforeAll
    static void setUp() {
        VmRun.requireKvm();
        probe = VmRun.testGuest("probe.elf").toString();
        HostCommand.ip(true, "tuntap", "add", TAP, "mode", "tap");
        HostCommand.ip(true, "link", "set", TAP, "up");
    }

    @AfterAll
    static void tearDown() {
        HostCommand.ip(false, "link", "del", TAP);
    }

    private static VmRun boot(String... slot) {
        List<String> args = new ArrayList<>(List.of("-m", "64M", "-s", "0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action=exit:0"));
        for (String s : slot) {
            args.add("-s");
            args.add(s);
        }
        args.add("vm1");
        return VmRun.bhyve(args.toArray(String[]::new));
    }

    @Tag("core")
    @Test
    void e1000OnATapIsAn82545OnThePciBus() {
        VmRun run = boot("2,e1000," + TAP + ",mac=00:a0:98:11:22:33");
        assertEquals(1, run.exitCode, run::toString);
        assertTrue(run.probeLines("pci").contains("00:02.0 8086:100f class 020000 hdr 00"), run::toString);
        assertEquals("", run.stderr);
    }

    @Test
    void e1000WithoutBackendIsAllowedAsInBhyve() {
        VmRun run = boot("3,e1000");
        assertEquals(1, run.exitCode, run::toString);
        assertTrue(run.probeLines("pci").contains("00:03.0 8086:100f class 020000 hdr 00"), run::toString);
    }

    @Test
    void missingTapIsOneClearLine() {
        String name = "jbn" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
        VmRun run = boot("2,e1000," + name);
        assertEquals(4, run.exitCode, run::toString);
        assertEquals("bhyve: e1000: " + name + ": no such tap interface: create it with 'ip tuntap add " + name
                + " mode tap' (and bring it up with 'ip link set " + name + " up')\n", run.stderr);
    }

    @Test
    void busyTapIsRefused() {
        try (TapBackend held = TapBackend.open("test", TAP, OptionalInt.empty())) {
            VmRun run = boot("2,e1000," + TAP);
            assertEquals(4, run.exitCode, run::toString);
            assertTrue(run.stderr.contains(TAP + ": tap interface is busy"), run::toString);
        }
    }

    @Test
    void netgraphIsFreeBsdOnly() {
        VmRun run = boot("2,e1000,netgraph,path=vmbridge:,peerhook=link0");
        assertEquals(4, run.exitCode, run::toString);
        assertTrue(run.stderr.startsWith("bhyve: e1000: netgraph: netgraph is a FreeBSD-only network backend"), run::toString);
        assertEquals(1, run.stderr.lines().count());
    }

    @Test
    void invalidMacIsRefused() {
        VmRun run = boot("2,e1000," + TAP + ",mac=01:00:5e:00:00:01");
        assertEquals(4, run.exitCode, run::toString);
        assertTrue(run.stderr.contains("e1000: invalid MAC address '01:00:5e:00:00:01'"), run::toString);
    }

}
