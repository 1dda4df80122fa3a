package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots end to end: the virtio test guest on two vCPUs counts ticks (about one a second)
 * and reads a sector of its virtio-blk disk on each; {@code bhyvectl --suspend} saves and stops
 * it, and {@code bhyve -r} with the same -s/-l options resumes it at the next tick, its disk
 * still answering, until its normal exit. Restoring twice from one file behaves the same;
 * {@code --checkpoint} saves and keeps the VM running.
 */
class SnapshotIT {
    private static final int TICKS = 10;
    /** The guest waits after this tick for a byte on COM1: the snapshot is taken there, whatever the host's speed. */
    private static final int GATE = 3;
    private static final Pattern TICK = Pattern.compile("JBT tick (\\d+) read (\\d+) status (-?\\d+) data ([0-9a-f]+)");

    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    private record Done(int status, String out, String err) {
        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Eight sectors, each starting with "sectorNN", in a 1 MiB image. */
    private Path disk() throws Exception {
        byte[] image = new byte[1 << 20];
        for (int s = 0; s < 8; s++) {
            byte[] tag = String.format("sector%02d", s).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(tag, 0, image, s * 512, tag.length);
        }
        Path disk = dir.resolve("disk.img");
        Files.write(disk, image);
        return disk;
    }

    private List<String> machine(Path disk) {
        return List.of("-c", "2", "-m", "256M", "-s", "0,hostbridge", "-s", "2,virtio-blk," + disk, "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("virtio.elf"),
                "-o", "boot.cmdline=ticks=" + TICKS + " gate=" + GATE);
    }

    /** A command with stdin from /dev/null. */
    private Process start(String program, List<String> args) throws Exception {
        return start(program, args, false);
    }

    /** A command; with {@code input} its stdin is a pipe (the guest's COM1 input), else /dev/null. */
    private Process start(String program, List<String> args, boolean input) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(VmRun.HOME.resolve("bin/" + program).toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (!input) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        pb.environment().put("JBHYVE_RUNDIR", dir.resolve("run").toString());
        pb.environment().put("JBHYVE_NO_BUILD", "1"); // the jar Maven built, as it is: no rebuild, no cache training
        return pb.start();
    }

    /**
     * Lets a guest waiting at the gate go on (a byte on its COM1), then collects the process. A
     * restoring bhyve puts its UARTs back as saved, which drops input that arrived while it was
     * still restoring, so the byte is sent every two seconds until the VM ends (the guest reads
     * one; the rest stay in the FIFO).
     */
    private Done openGateAndFinish(Process p) throws Exception {
        Thread.ofPlatform().daemon(true).start(() -> {
            try (var in = p.getOutputStream()) {
                while (p.isAlive()) {
                    in.write('g');
                    in.flush();
                    Thread.sleep(2000);
                }
            } catch (Exception gone) {
                // the VM has ended
            }
        });
        return finish(p);
    }

    /**
     * Runs bhyvectl against {@code vm}; when it fails, the VM's thread dump is added to what it
     * printed, so a stuck checkpoint shows where it waits.
     */
    private Done bhyvectl(Process vm, String... args) throws Exception {
        Process ctl = start("bhyvectl", List.of(args));
        Done done;
        try {
            done = finish(ctl);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n--- the VM's threads\n" + threadDump(vm), e);
        }
        return done.status() == 0 ? done : new Done(done.status(), done.out(), done.err() + "\n--- the VM's threads\n"
                + threadDump(vm));
    }

    private static String threadDump(Process vm) {
        try {
            Process jstack = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstack").toString(),
                    Long.toString(vm.pid())).redirectErrorStream(true).start();
            String dump = new String(jstack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            jstack.waitFor(60, TimeUnit.SECONDS);
            return dump;
        } catch (Exception e) {
            return "(no thread dump: " + e + ")";
        }
    }

    /** Waits (at most {@link VmRun#TIMEOUT_SECONDS}) for the process; a hung one is killed and shown. */
    private Done finish(Process p) throws Exception {
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        boolean exited = p.waitFor(VmRun.TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(60, TimeUnit.SECONDS); // a process stuck in the kernel may not go
        }
        Done done = new Done(exited ? p.exitValue() : -1, output(out), output(err));
        assertTrue(exited, () -> "the process did not exit within " + VmRun.TIMEOUT_SECONDS + " s\n" + done);
        return done;
    }

    /** What a reader collected; what it had not finished a minute after the process ended is said so. */
    private static String output(java.util.concurrent.CompletableFuture<String> reader) throws Exception {
        try {
            return reader.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return "(still open a minute after the process was stopped)";
        }
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** The tick numbers in {@code out}, each checked to have read its sector's own bytes. */
    private static List<Integer> ticks(String out) {
        List<Integer> ticks = new ArrayList<>();
        Matcher m = TICK.matcher(out);
        while (m.find()) {
            int n = Integer.parseInt(m.group(1));
            int sector = Integer.parseInt(m.group(2));
            assertEquals(n % 8, sector, out);
            assertEquals("0", m.group(3), "the disk answers at tick " + n + "\n" + out);
            assertEquals(HexFormat.of().formatHex(String.format("sector%02d", sector).getBytes(StandardCharsets.US_ASCII)),
                    m.group(4), "tick " + n + " read its sector\n" + out);
            ticks.add(n);
        }
        return ticks;
    }

    private static List<Integer> range(int first, int last) {
        List<Integer> r = new ArrayList<>();
        for (int i = first; i <= last; i++) {
            r.add(i);
        }
        return r;
    }

    @Tag("core")
    @Test
    void aSuspendedGuestResumesAtTheNextTickWithItsDiskTwiceFromOneFile() throws Exception {
        Path disk = disk();
        Process vm = start("bhyve", append(machine(disk), "snap1"), true);
        Path file = dir.resolve("snap1.ckp");
        String before;
        try {
            before = VmRun.readUntil(vm.getInputStream(), "JBT gate " + GATE);
            assertTrue(before.contains("JBT gate " + GATE), before);
            Done ctl = bhyvectl(vm, "--vm=snap1", "--suspend=" + file);
            assertEquals(0, ctl.status(), ctl::toString);
            Done first = finish(vm);
            assertEquals(0, first.status(), "bhyve exits 0 after a suspend, as FreeBSD's\n" + first);
            before += first.out();
        } finally {
            vm.destroyForcibly();
        }
        List<Integer> saved = ticks(before);
        int last = saved.getLast();
        assertEquals(range(1, GATE), saved, "suspended mid-count\n" + before);
        try (var files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("snap1.ckp")).toList()) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
            }
        }

        List<List<Integer>> resumed = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            Done again = openGateAndFinish(start("bhyve", append(machine(disk), "-r", file.toString()), true));
            assertEquals(1, again.status(), "the restored guest runs to its normal exit\n" + again);
            assertFalse(again.out().contains("JBT virtio-guest"), "the guest did not boot again\n" + again);
            assertEquals(range(last + 1, TICKS), ticks(again.out()), "it goes on from the next tick\n" + again);
            resumed.add(ticks(again.out()));
        }
        assertEquals(resumed.get(0), resumed.get(1), "restoring twice from one file gives the same guest");
    }

    @Test
    void aCheckpointKeepsTheVmRunningAndRestoresLater() throws Exception {
        Path disk = disk();
        Path file = dir.resolve("snap2.ckp");
        Process vm = start("bhyve", append(machine(disk), "snap2"), true);
        String seen;
        try {
            seen = VmRun.readUntil(vm.getInputStream(), "JBT gate " + GATE);
            Done ctl = bhyvectl(vm, "--vm=snap2", "--checkpoint=" + file);
            assertEquals(0, ctl.status(), ctl::toString);
            Done rest = openGateAndFinish(vm);
            assertEquals(1, rest.status(), "the checkpointed guest runs on to its exit\n" + rest);
            assertEquals(range(1, TICKS), ticks(seen + rest.out()), seen + rest.out());
        } finally {
            vm.destroyForcibly();
        }
        Done restored = openGateAndFinish(start("bhyve", append(machine(disk), "-r", file.toString()), true));
        assertEquals(1, restored.status(), restored::toString);
        assertEquals(range(GATE + 1, TICKS), ticks(restored.out()), "resumed at the gate\n" + restored);
    }

    @Test
    void aMissingOrForeignSnapshotIsOneLineAndStatusFour() throws Exception {
        Path disk = disk();
        Done missing = finish(start("bhyve", append(machine(disk), "-r", dir.resolve("none.ckp").toString())));
        assertEquals(4, missing.status(), missing::toString);
        assertEquals("bhyve: cannot open snapshot " + dir.resolve("none.ckp") + ": No such file or directory\n",
                missing.err(), missing::toString);
        Done foreign = finish(start("bhyve", append(machine(disk), "-r", disk.toString())));
        assertEquals(4, foreign.status(), foreign::toString);
        assertEquals("bhyve: snapshot " + disk + ": not a jbhyve snapshot\n", foreign.err(), foreign::toString);
    }

    private static List<String> append(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all;
    }
}
