package org.jbhyve.tools;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.jbhyve.testing.HostCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/vmrun.sh's taps: a missing one is created (up, as a tap) when run as root and deleted when
 * the VM is done; an existing one is used and left alone; without root one line says why not.
 * Each case runs in a network namespace of its own (unshare -n), so the host's interfaces are
 * never touched, and checks the namespace after vmrun.sh has exited. Creating taps needs root:
 * as any other user the test fails saying so (the build and CI machines run as root).
 */
class VmrunTapTest {
    private static final String TAP = "jbtap0";
    private static final String OTHER = "jbtap1";

    @TempDir
    Path dir;

    private static void requireRoot() {
        assertEquals("0", HostCommand.run(true, "id", "-u").strip(),
                "creating taps in a network namespace needs root; run the tests as root as CI does");
    }

    /** Runs vmrun.sh in a fresh network namespace; {@code before} runs there first, then "ip -o link" after. */
    private VmrunHarness.Result inNamespace(VmrunHarness h, String before, String... args) {
        StringBuilder cmd = new StringBuilder(before).append("; bash \"$0\"");
        for (int i = 0; i < args.length; i++) {
            cmd.append(" \"${").append(i + 1).append("}\"");
        }
        cmd.append("; st=$?; echo AFTER; ip -o link show; exit $st");
        ProcessBuilder pb = h.command(List.of("unshare", "-n", "bash", "-c", cmd.toString()), args);
        // command() put "bash SCRIPT" after the prefix: drop the bash, keep SCRIPT as $0.
        pb.command().remove(pb.command().size() - args.length - 2);
        pb.environment().put("FAKE_WATCH_TAPS", TAP + " " + OTHER);
        return VmrunHarness.run(pb);
    }

    @Test
    void missingTapIsCreatedUpForTheVmAndRemovedAfterIt() {
        requireRoot();
        VmrunHarness h = new VmrunHarness(dir).statuses("0", "1");
        h.disk("disk.img", true);
        VmrunHarness.Result r = inNamespace(h, "true", "-d", "disk.img", "-t", TAP, "vm1");
        assertEquals(1, r.status(), r.err());
        for (int run = 1; run <= 2; run++) {
            String tap = h.read("tap." + run + "." + TAP);
            assertTrue(tap.contains("tun type tap"), "a tap while bhyve runs: " + tap);
            assertTrue(tap.matches("(?s).*<[^>]*\\bUP\\b[^>]*>.*"), "up: " + tap);
            assertFalse(tap.contains("inet"), "no address");
        }
        assertTrue(r.out().contains("Created tap interface " + TAP + " (removed when vm1 ends)"), r.out());
        String after = r.out().substring(r.out().indexOf("AFTER"));
        assertFalse(after.contains(TAP), "removed when vmrun.sh ends: " + after);
        assertEquals("", r.err());
    }

    @Test
    void existingTapIsUsedAndKept() {
        requireRoot();
        VmrunHarness h = new VmrunHarness(dir).statuses("1");
        h.disk("disk.img", true);
        VmrunHarness.Result r = inNamespace(h, "ip tuntap add " + TAP + " mode tap",
                "-d", "disk.img", "-t", TAP, "-t", OTHER + ",mac=00:a0:98:00:00:02", "vm1");
        assertEquals(1, r.status(), r.err());
        assertTrue(h.argv(1).contains("3:0,virtio-net," + TAP), h.argv(1).toString());
        assertTrue(h.argv(1).contains("4:0,virtio-net," + OTHER + ",mac=00:a0:98:00:00:02"), h.argv(1).toString());
        assertTrue(h.read("tap.1." + OTHER).contains("tun type tap"), "the name before the options is created");
        String after = r.out().substring(r.out().indexOf("AFTER"));
        assertTrue(after.contains(TAP + ":"), "a tap vmrun.sh did not create stays: " + after);
        assertFalse(after.contains(OTHER), "the one it created goes: " + after);
    }

    @Test
    void withoutRootAMissingTapIsOneLineAndBhyveDecides() throws Exception {
        requireRoot(); // to become nobody in a namespace of our own
        VmrunHarness h = new VmrunHarness(dir).statuses("4");
        Files.setPosixFilePermissions(h.disk("disk.img", true), PosixFilePermissions.fromString("rw-rw-rw-"));
        ProcessBuilder pb = h.command(List.of("unshare", "-n", "setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups"), "-d", "disk.img", "-t", TAP, "vm1");
        VmrunHarness.Result r = VmrunHarness.run(pb);
        assertEquals(4, r.status(), "bhyve's status: the real one refuses the missing tap");
        assertEquals(List.of("vmrun.sh: tap " + TAP + " does not exist and only root can create it (ip tuntap add "
                + TAP + " mode tap)"), r.errLines());
        assertEquals(1, h.runs());
    }

    @Test
    void nonInterfaceBackendsAreLeftToBhyve() {
        requireRoot();
        VmrunHarness h = new VmrunHarness(dir).statuses("4");
        h.disk("disk.img", true);
        VmrunHarness.Result r = inNamespace(h, "true", "-d", "disk.img", "-t", "netgraph,path=x:,peerhook=y", "vm1");
        assertEquals(4, r.status());
        assertEquals("", r.err(), "no tap to create");
        assertTrue(h.argv(1).contains("3:0,virtio-net,netgraph,path=x:,peerhook=y"));
    }
}
