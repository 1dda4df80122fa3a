package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jbhyve.testing.HostCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bhyve as an ordinary user, set up the way an administrator would: the user in group kvm,
 * /dev/kvm {@code root:kvm 0660}, and a tap made for the user ({@code ip tuntap add TAP mode tap
 * user USER}), which it may then open without CAP_NET_ADMIN. The test runs as root and makes
 * that set-up itself (the user with useradd when missing, the group, the tap, /dev/net/tun
 * {@code 0666} as distributions ship it), runs bin/bhyve
 * as the user with setpriv, and undoes its changes afterwards.
 *
 * <p>Once started, the VMM has no capabilities, no_new_privs, and a seccomp filter of its own
 * that refuses execve and process creation ({@code org.jbhyve.sys.SeccompTest} shows those
 * refusals in a JVM; here /proc shows the filter on the running VMM).
 */
class UnprivilegedIT {
    private static final String USER = "jbhyve-it";
    private static final String TAP = "jbu" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    private static final Path KVM = Path.of("/dev/kvm");
    private static final Path TUN = Path.of("/dev/net/tun");
    /** Commands that put the host back as it was, the last change first. */
    private static final Deque<String[]> UNDO = new ArrayDeque<>();

    @TempDir
    static Path home;

    private static List<String> asUser;
    private static Map<String, String> environment;
    private static String probe;

    @BeforeAll
    static void setUp() throws IOException {
        VmRun.requireKvm();
        probe = VmRun.testGuest("probe.elf").toString();
        assertEquals(0, (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"),
                "this test makes a user, a group and a tap for it: run it as root");
        if (HostCommand.run(false, "getent", "group", "kvm").isBlank()) {
            HostCommand.run(true, "groupadd", "--system", "kvm");
            UNDO.push(new String[] {"groupdel", "kvm"});
        }
        if (HostCommand.run(false, "getent", "passwd", USER).isBlank()) {
            HostCommand.run(true, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER);
            UNDO.push(new String[] {"userdel", USER});
        }
        if (!List.of(HostCommand.run(true, "id", "-nG", USER).trim().split("\\s+")).contains("kvm")) {
            HostCommand.run(true, "usermod", "-aG", "kvm", USER);
            UNDO.push(new String[] {"gpasswd", "-d", USER, "kvm"});
        }
        int gid = (Integer) Files.getAttribute(KVM, "unix:gid");
        int mode = (Integer) Files.getAttribute(KVM, "unix:mode") & 07777;
        HostCommand.run(true, "chgrp", "kvm", KVM.toString());
        UNDO.push(new String[] {"chgrp", Integer.toString(gid), KVM.toString()});
        HostCommand.run(true, "chmod", "0660", KVM.toString());
        UNDO.push(new String[] {"chmod", Integer.toOctalString(mode), KVM.toString()});
        // Linux distributions ship /dev/net/tun as 0666 (opening it grants nothing: attaching to a
        // tap needs CAP_NET_ADMIN or the tap's owner); some containers make it 0600.
        int tunMode = (Integer) Files.getAttribute(TUN, "unix:mode") & 07777;
        if ((tunMode & 0666) != 0666) {
            HostCommand.run(true, "chmod", "0666", TUN.toString());
            UNDO.push(new String[] {"chmod", Integer.toOctalString(tunMode), TUN.toString()});
        }
        HostCommand.ip(true, "tuntap", "add", TAP, "mode", "tap", "user", USER);
        UNDO.push(new String[] {"ip", "link", "del", TAP});
        HostCommand.ip(true, "link", "set", TAP, "up");

        HostCommand.run(true, "chown", USER, home.toString()); // the user's VM registry lives here
        asUser = List.of("setpriv", "--reuid=" + USER, "--regid=" + HostCommand.run(true, "id", "-g", USER).trim(),
                "--init-groups", "--");
        environment = Map.of("JBHYVE_RUNDIR", home.resolve("run").toString(), "JBHYVE_NO_BUILD", "1");
    }

    @AfterAll
    static void tearDown() {
        while (!UNDO.isEmpty()) {
            HostCommand.run(false, UNDO.pop());
        }
    }

    private static List<String> vm(String action, String name) {
        return List.of("-c", "1", "-m", "64M", "-s", "0,hostbridge", "-s", "2,virtio-net," + TAP, "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action="
                        + action, name);
    }

    @Tag("core")
    @Test
    void aUserInGroupKvmRunsAVmOnItsTap() {
        VmRun run = VmRun.bhyveVia(asUser, environment, null, vm("exit:5", "uvm1").toArray(String[]::new));
        assertEquals(11, run.exitCode, "the guest's status 5 as 5 << 1 | 1 (the checkout and the JDK must be "
                + "readable by " + USER + ")\n" + run);
        assertTrue(run.stdout.contains("JBT exit 5"), run::toString);
        assertTrue(run.probeLines("pci").contains("00:02.0 1af4:1000 class 020000 hdr 00"), run::toString);
        assertEquals("", run.stderr, "no notice: the seccomp filter went in\n" + run);
    }

    @Test
    void theRunningVmmIsUnprivilegedAndUnderItsSeccompFilter() throws Exception {
        List<String> cmd = new ArrayList<>(asUser);
        cmd.add(VmRun.HOME.resolve("bin/bhyve").toString());
        cmd.addAll(vm("spin", "uvm2"));
        Path err = home.resolve("uvm2.err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(err.toFile());
        pb.environment().putAll(environment);
        Process vm = pb.start(); // setpriv and bin/bhyve exec: its pid is the JVM's
        try {
            String seen = VmRun.readUntil(vm.getInputStream(), "JBT spinning");
            assertTrue(seen.contains("JBT spinning"), seen + "\n--- stderr\n" + Files.readString(err));
            Map<String, String> status = status(Path.of("/proc", Long.toString(vm.pid()), "status"));
            String uid = HostCommand.run(true, "id", "-u", USER).trim();
            assertEquals(List.of(uid, uid, uid, uid), List.of(status.get("Uid").split("\\s+")), status::toString);
            assertEquals("0000000000000000", status.get("CapEff"), status::toString);
            assertEquals("1", status.get("NoNewPrivs"), status::toString);
            assertEquals("2", status.get("Seccomp"), "mode 2, a filter: " + status);
            // Filters are inherited: the VMM has one more than this JVM (which may run under a container's).
            Map<String, String> mine = status(Path.of("/proc/self/status"));
            if (mine.containsKey("Seccomp_filters")) {
                assertEquals(Integer.parseInt(mine.get("Seccomp_filters")) + 1,
                        Integer.parseInt(status.get("Seccomp_filters")), status::toString);
            }
        } finally {
            vm.destroyForcibly();
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "bhyve ended");
        }
    }

    /** /proc/PID/status as field name to value. */
    private static Map<String, String> status(Path file) throws IOException {
        Map<String, String> fields = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            int colon = line.indexOf(':');
            fields.put(line.substring(0, colon), line.substring(colon + 1).trim());
        }
        return fields;
    }
}
