package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jbhyve.control.Claim;
import org.jbhyve.control.Registry;
import org.jbhyve.control.VmRecord;
import org.jbhyve.testing.FakeMachine;
import org.jbhyve.vcpu.Descriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bhyvectl as a user runs it, against a fake VM served on a real control socket in a private registry. */
class BhyvectlMainTest {
    @TempDir
    Path rundir;

    private record Run(int status, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }
    }

    private Run bhyvectl(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = BhyvectlMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), () -> Registry.at(rundir));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Claim serve(FakeMachine vm) {
        Claim claim = Registry.at(rundir).claim(vm.name());
        claim.serve(vm);
        return claim;
    }

    @Test
    void getRipPrintsBhyvectlsLine() {
        FakeMachine vm = new FakeMachine("vm1", 2);
        vm.registers.get(1).put("rip", 0x10002AL);
        try (Claim claim = serve(vm)) {
            Run run = bhyvectl("--vm=vm1", "--get-rip", "--cpu=1");
            assertEquals(0, run.status(), run.err());
            assertEquals(List.of("rip[1]\t\t0x000000000010002a"), run.lines());
            assertEquals("", run.err());
        }
    }

    @Test
    void lowmemStatsAndTopologyAnswer() {
        try (Claim claim = serve(new FakeMachine("vm1", 1))) {
            Run run = bhyvectl("--vm=vm1", "--get-stats", "--get-lowmem", "--get-highmem", "--get-cpu-topology",
                    "--get-active-cpus");
            assertEquals(0, run.status(), run.err());
            assertEquals(List.of("lowmem\t\t0x0000000000000000/268435456", "highmem\t\t0x0000000100000000/0",
                    "active cpus:\t 0", "vcpu0 stats:", String.format("%-40s\t1234", "exits"),
                    String.format("%-40s\t5", "halt_exits"), String.format("%-40s\t77", "jbhyve.exits.io"),
                    "cpu_topology:\tsockets=1, cores=1, threads=1, maxcpus=1"), run.lines());
        }
    }

    @Test
    void settersRunBeforeGettersInBhyvectlsOrder() {
        FakeMachine vm = new FakeMachine("vm1", 1);
        try (Claim claim = serve(vm)) {
            Run run = bhyvectl("--vm=vm1", "--get-rip", "--set-rip=0x2000", "--set-rflags=0x202", "--get-rflags",
                    "--set-desc-cs", "--desc-base=0x1000", "--desc-limit=0xffff", "--desc-access=0x9b",
                    "--get-desc-cs", "--set-cs=0x10", "--get-cs", "--inject-nmi");
            assertEquals(0, run.status(), run.err());
            assertEquals(List.of("rip[0]\t\t0x0000000000002000", "rflags[0]\t0x0000000000000202",
                    "cs desc[0]\t0x0000000000001000/0x0000ffff/0x0000009b", "cs[0]\t\t0x0010"), run.lines());
            assertEquals(new Descriptor(0x1000, 0xFFFF, 0x9B), vm.descriptors.get(0).get("cs"));
            assertEquals(1, vm.nmis);
        }
    }

    @Test
    void rtcNvramAndTime() {
        FakeMachine vm = new FakeMachine("vm1", 1);
        try (Claim claim = serve(vm)) {
            Run run = bhyvectl("--vm=vm1", "--set-rtc-nvram=0x5a", "--rtc-nvram-offset=20", "--get-rtc-nvram",
                    "--set-rtc-time=0", "--get-rtc-time");
            assertEquals(0, run.status(), run.err());
            assertEquals(List.of("rtc nvram[020]: 0x5a", "rtc time 0: Thu Jan 01 00:00:00 1970"), run.lines());
        }
    }

    @Test
    void aMissingVmIsVmOpensLineAndStatusOne() {
        Run run = bhyvectl("--vm=nosuch", "--get-rip");
        assertEquals(1, run.status());
        assertEquals("vm_open: nosuch could not be opened: No such file or directory\n", run.err());
        assertEquals("", run.out());
    }

    @Test
    void aBadOptionIsOneLineAndStatusOne() {
        Run run = bhyvectl("--vm=vm1", "--get-ripp");
        assertEquals(1, run.status());
        assertEquals(List.of("bhyvectl: unrecognized option '--get-ripp' (bhyvectl --help lists the options)"),
                run.err().lines().toList());
    }

    @Test
    void aFailedRequestStopsThereWithStatus255() {
        try (Claim claim = serve(new FakeMachine("vm1", 1))) {
            Run run = bhyvectl("--vm=vm1", "--get-lowmem", "--get-rip", "--cpu=3");
            assertEquals(255, run.status());
            assertEquals(List.of("lowmem\t\t0x0000000000000000/268435456"), run.lines(), "output before the failure");
            assertEquals(List.of("bhyvectl: vcpu 3 does not exist (the VM has 1) (errno = 22)"),
                    run.err().lines().toList());
        }
    }

    @Test
    void stopRequestsReachTheVm() {
        FakeMachine vm = new FakeMachine("vm1", 1);
        try (Claim claim = serve(vm)) {
            assertEquals(0, bhyvectl("--vm=vm1", "--force-reset").status());
            assertEquals(0, bhyvectl("--vm=vm1", "--force-poweroff").status());
            assertEquals(List.of("force-reset", "force-poweroff"), vm.calls());
        }
    }

    @Test
    void destroyOfARunningVmWaitsUntilItsEntryIsGone() {
        FakeMachine vm = new FakeMachine("vm1", 1);
        Claim claim = serve(vm);
        vm.onStop = () -> Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(300); // bhyve takes a moment to tear the VM down
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            claim.release(claim.destroyRequested());
        });
        Run run = bhyvectl("--vm=vm1", "--destroy");
        assertEquals(0, run.status(), run.err());
        assertEquals(List.of("destroy"), vm.calls());
        assertInstanceOf(Registry.Entry.Absent.class, Registry.at(rundir).inspect("vm1"));
    }

    @Test
    void createThenDestroyACreatedVm() {
        assertEquals(0, bhyvectl("--vm=vm2", "--create").status());
        assertInstanceOf(Registry.Entry.Created.class, Registry.at(rundir).inspect("vm2"));
        Run again = bhyvectl("--vm=vm2", "--create");
        assertEquals(1, again.status());
        assertEquals("vm_open: vm2 could not be opened: File exists\n", again.err());
        assertEquals(0, bhyvectl("--vm=vm2", "--destroy").status());
        assertInstanceOf(Registry.Entry.Absent.class, Registry.at(rundir).inspect("vm2"));
    }

    @Test
    void aCreatedVmAnswersFromItsRecord() {
        Registry.at(rundir).create(new VmRecord("vm3", "bhyveload", 4L << 30, true, false, "/k", null, null, null,
                List.of(), "stdio", Map.of()), false);
        Run all = bhyvectl("--vm=vm3", "--get-all");
        assertEquals(0, all.status(), all.err());
        assertTrue(all.lines().contains("lowmem\t\t0x0000000000000000/3221225472 wired"), all.out());
        assertTrue(all.lines().contains("highmem\t\t0x0000000100000000/1073741824 wired"), all.out());
        assertTrue(all.lines().contains("active cpus:\t (none)"), all.out());
        Run rip = bhyvectl("--vm=vm3", "--get-rip");
        assertEquals(255, rip.status());
        assertEquals("bhyvectl: vm vm3 is created but not running (bhyve ... vm3 runs it) (errno = 16)\n", rip.err());
    }

    @Test
    void helpPrintsTheUsage() {
        Run run = bhyvectl("--help");
        assertEquals(0, run.status());
        assertTrue(run.out().startsWith("Usage: bhyvectl --vm=<vmname>"));
        assertTrue(run.out().contains("[--get-rip]"));
    }
}
