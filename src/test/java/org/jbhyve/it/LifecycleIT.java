package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The VM's life as the Handbook drives it: the registry entry of a running VM, bhyvectl against
 * it (registers, memory, statistics, stop requests with bhyve's statuses), a second bhyve with
 * the same name, bhyveload then bhyve then bhyvectl --destroy, and SIGTERM sent twice. Each VM
 * registers in a private RUNDIR (JBHYVE_RUNDIR), except the one that checks the default place.
 */
class LifecycleIT {
    @TempDir
    Path rundir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    /** A finished command: status, stdout, stderr. */
    private record Done(int status, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private ProcessBuilder command(String program, List<String> args, boolean privateRundir) {
        List<String> cmd = new ArrayList<>();
        cmd.add(VmRun.HOME.resolve("bin/" + program).toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (privateRundir) {
            pb.environment().put("JBHYVE_RUNDIR", rundir.toString());
        } else {
            pb.environment().remove("JBHYVE_RUNDIR");
        }
        return pb;
    }

    private Done run(String program, String... args) throws Exception {
        return finish(command(program, List.of(args), true).start(), 120);
    }

    private static Done finish(Process p, int seconds) throws Exception {
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "process did not exit");
        return new Done(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** bhyve running the probe guest's busy loop, once it has said so. */
    private Process spinning(String name, boolean privateRundir) throws Exception {
        Process vm = command("bhyve", List.of("-c", "2", "-m", "256M", "-s", "0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "-o", "boot.cmdline=action=spin", name), privateRundir).start();
        String seen = VmRun.readUntil(vm.getInputStream(), "JBT spinning");
        assertTrue(seen.contains("JBT spinning"), seen);
        return vm;
    }

    private static void assertSocketEntry(Path entry) throws IOException {
        BasicFileAttributes a = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertTrue(a.isOther(), entry + " is a socket");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(entry,
                LinkOption.NOFOLLOW_LINKS)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(entry.getParent())));
    }

    private static String remainingOutput(Process vm) throws IOException {
        return new String(vm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void aRunningVmIsAnOwnerOnlySocketThatBhyvectlQueries() throws Exception {
        Process vm = spinning("lc1", true);
        try {
            Path entry = rundir.resolve("vmm/lc1");
            assertSocketEntry(entry);

            Done rip = run("bhyvectl", "--vm=lc1", "--get-rip", "--cpu=0");
            assertEquals(0, rip.status(), rip::toString);
            assertEquals(1, rip.lines().size(), rip::toString);
            assertTrue(rip.lines().get(0).matches("rip\\[0\\]\t\t0x[0-9a-f]{16}"), rip::toString);
            assertFalse(rip.lines().get(0).equals("rip[0]\t\t0x0000000000000000"), "the guest is past its entry");

            Done lowmem = run("bhyvectl", "--vm=lc1", "--get-lowmem", "--get-highmem");
            assertEquals(List.of("lowmem\t\t0x0000000000000000/268435456", "highmem\t\t0x0000000100000000/0"),
                    lowmem.lines(), lowmem::toString);

            Done stats = run("bhyvectl", "--vm=lc1", "--get-stats", "--cpu=0");
            assertEquals(0, stats.status(), stats::toString);
            assertEquals("vcpu0 stats:", stats.lines().get(0), stats::toString);
            assertTrue(stats.lines().stream().anyMatch(l -> l.matches("exits\\s+\t[1-9][0-9]*")), stats::toString);
            assertTrue(stats.lines().stream().anyMatch(l -> l.matches("jbhyve.exits.io\\s+\t[1-9][0-9]*")),
                    "the probe wrote to COM1: " + stats);
            assertTrue(stats.lines().stream().anyMatch(l -> l.matches("jbhyve.control_requests\\s+\t1")),
                    "only --get-rip ran on vCPU 0; --get-stats itself does not stop it: " + stats);

            Done all = run("bhyvectl", "--vm=lc1", "--get-all");
            assertEquals(0, all.status(), all::toString);
            for (String prefix : List.of("lowmem\t\t", "cr0[0]\t\t0x", "rflags[0]\t0x", "cs desc[0]\t0x",
                    "gdtr[0]\t\t0x", "cs[0]\t\t0x", "x2apic_state[0]\t0", "rtc time 0x", "pending:\t",
                    "current:\t", "active cpus:\t 0, 1", "suspended cpus:\t (none)", "vcpu0 stats:",
                    "cpu_topology:\tsockets=2, cores=1, threads=1, maxcpus=2")) {
                assertTrue(all.lines().stream().anyMatch(l -> l.startsWith(prefix)), prefix + " in\n" + all);
            }
            String cs = all.lines().stream().filter(l -> l.startsWith("cs desc[0]\t")).findFirst().orElseThrow();
            long access = Long.parseLong(cs.substring(cs.lastIndexOf("/0x") + 3), 16);
            assertEquals(0x2080, access & 0x2080, "the probe runs present 64-bit code (P, L): " + cs);
            assertEquals(0, access & 0x60, "in ring 0: " + cs);

            Done second = finish(command("bhyve", List.of("-m", "256M", "-o", "boot.kernel="
                    + VmRun.testGuest("probe.elf"), "lc1"), true).start(), 60);
            assertEquals(4, second.status(), second::toString);
            assertEquals(List.of("bhyve: vm lc1 is already running (pid " + vm.pid() + ")"),
                    second.err().lines().toList());
            assertTrue(vm.isAlive(), "the first VM is untouched");

            Done off = run("bhyvectl", "--vm=lc1", "--force-poweroff");
            assertEquals(0, off.status(), off::toString);
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "bhyve stops");
            assertEquals(1, vm.exitValue(), "power-off");
            assertFalse(Files.exists(entry, LinkOption.NOFOLLOW_LINKS), "the entry is gone");
            Done gone = run("bhyvectl", "--vm=lc1", "--get-rip");
            assertEquals(1, gone.status());
            assertEquals("vm_open: lc1 could not be opened: No such file or directory\n", gone.err());
        } finally {
            vm.destroyForcibly();
        }
    }

    @Test
    void registerWritesAndAnNmiReachTheGuest() throws Exception {
        Process vm = spinning("lc2", true);
        try {
            // vCPU 1 waits for a SIPI the probe never sends: its state can be read and written all the same.
            Done set = run("bhyvectl", "--vm=lc2", "--cpu=1", "--set-rax=0x1234", "--get-rax", "--set-dr0=0x5000",
                    "--get-dr0", "--get-dr7");
            assertEquals(0, set.status(), set::toString);
            assertEquals(List.of("dr0[1]\t\t0x0000000000005000", "dr7[1]\t\t0x0000000000000400",
                    "rax[1]\t\t0x0000000000001234"), set.lines(), set::toString);
            Done bad = run("bhyvectl", "--vm=lc2", "--cpu=7", "--get-rip");
            assertEquals(255, bad.status(), bad::toString);
            assertEquals(List.of("bhyvectl: vcpu 7 does not exist (the VM has 2) (errno = 22)"),
                    bad.err().lines().toList());
            // An NMI on vCPU 0 lands on the probe's vector-2 handler, which reports it and exits with 0x7E.
            Done nmi = run("bhyvectl", "--vm=lc2", "--cpu=0", "--inject-nmi");
            assertEquals(0, nmi.status(), nmi::toString);
            String rest = remainingOutput(vm);
            assertTrue(rest.contains("JBT exception 2 "), rest);
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS));
            assertEquals((0x7E << 1) | 1, vm.exitValue(), rest);
        } finally {
            vm.destroyForcibly();
        }
    }

    @Test
    void forceResetEndsWithStatusZeroAndDestroyWithFour() throws Exception {
        Process reset = spinning("lc3", true);
        try {
            assertEquals(0, run("bhyvectl", "--vm=lc3", "--force-reset").status());
            assertTrue(reset.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, reset.exitValue());
            assertFalse(Files.exists(rundir.resolve("vmm/lc3"), LinkOption.NOFOLLOW_LINKS));
        } finally {
            reset.destroyForcibly();
        }
        Process destroyed = spinning("lc3", true);
        try {
            Done d = run("bhyvectl", "--vm=lc3", "--destroy");
            assertEquals(0, d.status(), d::toString);
            assertFalse(Files.exists(rundir.resolve("vmm/lc3"), LinkOption.NOFOLLOW_LINKS), "gone when bhyvectl returns");
            assertTrue(destroyed.waitFor(60, TimeUnit.SECONDS));
            assertEquals(4, destroyed.exitValue());
            String err = new String(destroyed.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(List.of("bhyve: destroyed by bhyvectl --destroy"), err.lines().toList());
        } finally {
            destroyed.destroyForcibly();
        }
    }

    @Test
    void aKilledVmLeavesAStaleEntryThatIsReplaced() throws Exception {
        Process vm = spinning("lc4", true);
        vm.destroyForcibly(); // kill -9: no chance to clean up
        assertTrue(vm.waitFor(30, TimeUnit.SECONDS));
        assertTrue(Files.exists(rundir.resolve("vmm/lc4"), LinkOption.NOFOLLOW_LINKS), "the socket file stays");
        Done gone = run("bhyvectl", "--vm=lc4", "--get-rip");
        assertEquals(1, gone.status(), gone::toString);
        Process again = spinning("lc4", true);
        try {
            assertSocketEntry(rundir.resolve("vmm/lc4"));
            assertEquals(0, run("bhyvectl", "--vm=lc4", "--force-poweroff").status());
            assertTrue(again.waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, again.exitValue());
        } finally {
            again.destroyForcibly();
        }
    }

    @Tag("core")
    @Test
    void bhyveloadThenBhyveThenDestroy() throws Exception {
        Done load = run("bhyveload", "-m", "256M", "-e", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "-e", "boot.cmdline=loaded=yes action=exit:5", "lc5");
        assertEquals(new Done(0, "", ""), load);
        Path entry = rundir.resolve("vmm/lc5");
        assertTrue(Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS), "a created VM is a record");

        Done lowmem = run("bhyvectl", "--vm=lc5", "--get-lowmem");
        assertEquals(List.of("lowmem\t\t0x0000000000000000/268435456"), lowmem.lines(), lowmem::toString);

        Done mismatch = run("bhyve", "-m", "512M", "-s", "0,hostbridge", "-l", "com1,stdio", "lc5");
        assertEquals(4, mismatch.status(), mismatch::toString);
        assertEquals(1, mismatch.err().lines().count(), mismatch::toString);
        assertTrue(mismatch.err().contains("disagrees"), mismatch::toString);

        Done boot = run("bhyve", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-l", "pc-testdev", "lc5");
        assertEquals(11, boot.status(), boot::toString); // (5 << 1) | 1
        assertTrue(boot.lines().contains("JBT cmdline loaded=yes action=exit:5"), boot::toString);
        assertTrue(Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS), "kept until --destroy");

        Done destroy = run("bhyvectl", "--destroy", "--vm=lc5");
        assertEquals(new Done(0, "", ""), destroy);
        assertFalse(Files.exists(entry, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void bhyveDashDDestroysACreatedVmAtPowerOff() throws Exception {
        assertEquals(0, run("bhyveload", "-e", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "-e", "boot.cmdline=action=exit:0", "lc6").status());
        Done boot = run("bhyve", "-D", "-s", "0,hostbridge", "-l", "com1,stdio", "-l", "pc-testdev", "lc6");
        assertEquals(1, boot.status(), boot::toString);
        assertFalse(Files.exists(rundir.resolve("vmm/lc6"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void theDefaultRegistryIsRunJbhyveForRoot() throws Exception {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        Path vmm = uid == 0 ? Path.of("/run/jbhyve/vmm") : xdg != null ? Path.of(xdg, "jbhyve/vmm")
                : Path.of(System.getProperty("java.io.tmpdir"), "jbhyve-" + uid, "vmm");
        String name = "jbt-lc-" + ProcessHandle.current().pid();
        Process vm = spinning(name, false);
        try {
            assertSocketEntry(vmm.resolve(name));
            Done rip = finish(command("bhyvectl", List.of("--vm=" + name, "--get-rip"), false).start(), 60);
            assertEquals(0, rip.status(), rip::toString);
            assertTrue(rip.out().startsWith("rip[0]\t\t0x"), rip::toString);
            assertEquals(0, finish(command("bhyvectl", List.of("--vm=" + name, "--destroy"), false).start(), 60)
                    .status());
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS));
            assertEquals(4, vm.exitValue());
            assertFalse(Files.exists(vmm.resolve(name), LinkOption.NOFOLLOW_LINKS));
        } finally {
            vm.destroyForcibly();
        }
    }

    @Tag("core")
    @Test
    void sigtermTwiceStillLetsTheGuestSeeThePowerButton() throws Exception {
        Process vm = command("bhyve", List.of("-A", "-m", "256M", "-s", "0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("acpi.elf"),
                "-o", "boot.cmdline=action=wait-button", "lc7"), true).start();
        try {
            String seen = VmRun.readUntil(vm.getInputStream(), "JBT waiting-button");
            assertTrue(seen.contains("JBT waiting-button"), seen);
            new ProcessBuilder("kill", "-TERM", Long.toString(vm.pid())).start().waitFor();
            new ProcessBuilder("kill", "-TERM", Long.toString(vm.pid())).start().waitFor();
            String rest = remainingOutput(vm);
            assertTrue(rest.contains("JBT button"), rest);
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "the guest powers off");
            assertEquals(1, vm.exitValue(), rest);
            assertEquals("", new String(vm.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            vm.destroyForcibly();
        }
    }

    @Test
    void sigtermWhileTheGuestShutsDownIsAnotherPressNotAKill() throws Exception {
        Process vm = command("bhyve", List.of("-A", "-m", "256M", "-s", "0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("acpi.elf"),
                "-o", "boot.cmdline=action=wait-button", "lc8"), true).start();
        try {
            assertTrue(VmRun.readUntil(vm.getInputStream(), "JBT waiting-button").contains("JBT waiting-button"));
            for (int i = 0; i < 3; i++) {
                new ProcessBuilder("kill", "-TERM", Long.toString(vm.pid())).start().waitFor();
                Thread.sleep(20);
            }
            String rest = remainingOutput(vm);
            assertTrue(rest.contains("JBT poweroff"), rest);
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, vm.exitValue(), rest);
        } finally {
            vm.destroyForcibly();
        }
    }
}
