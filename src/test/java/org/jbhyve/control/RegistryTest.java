package org.jbhyve.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry's files, modes and decisions, with real sockets in a temporary RUNDIR. */
class RegistryTest {
    @TempDir
    Path rundir;

    private Registry registry() {
        return Registry.at(rundir);
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static VmRecord loaded(String name) {
        return new VmRecord(name, "bhyveload", 512L << 20, true, false, "/boot/vmlinuz", "/boot/initrd",
                "console=ttyS0", null, List.of("/vm/disk.img"), "stdio", Map.of("boot.kernel", "/boot/vmlinuz"));
    }

    /** A socket file nobody listens on, with .NAME.run naming {@code pid}: what kill -9 leaves. */
    private void leaveDeadSocket(String name, long pid, long started, VmRecord hidden) throws Exception {
        Path vmm = registry().directory();
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(vmm.resolve(name)));
        } // closing does not unlink: the file stays, like after a crash
        Files.writeString(vmm.resolve("." + name + ".run"),
                new Registry.RunInfo(pid, started, hidden).toJson());
    }

    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void claimPutsAnOwnerOnlySocketInAnOwnerOnlyDirectory() throws Exception {
        Registry r = registry();
        try (Claim claim = r.claim("vm1")) {
            Path entry = rundir.resolve("vmm/vm1");
            assertTrue(Files.readAttributes(entry, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).isOther(), "a socket");
            assertEquals("rw-------", mode(entry));
            assertEquals("rwx------", mode(rundir.resolve("vmm")));
            assertEquals(List.of("vm1"), r.names());
            Registry.Entry.Running running = assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm1"));
            assertEquals(ProcessHandle.current().pid(), running.pid());
            assertTrue(running.accepting());
            assertNull(claim.record());
        }
        assertInstanceOf(Registry.Entry.Absent.class, r.inspect("vm1"));
        assertEquals(List.of(), r.names());
        assertFalse(Files.exists(rundir.resolve("vmm/.vm1.run")));
    }

    @Test
    void aSecondClaimOfARunningNameIsRefused() {
        Registry r = registry();
        try (Claim first = r.claim("vm1")) {
            ControlException e = assertThrows(ControlException.class, () -> r.claim("vm1"));
            assertEquals(ControlException.EBUSY, e.errno());
            assertEquals("vm vm1 is already running (pid " + ProcessHandle.current().pid() + ")", e.getMessage());
            assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm1"), "the first claim is untouched");
        }
    }

    @Test
    void claimsRacingForOneNameLeaveOneWinnerAndNoLeftovers() throws Exception {
        Registry r = registry();
        for (int round = 0; round < 20; round++) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Claim>> racers = new ArrayList<>();
            ExecutorService threads = Executors.newFixedThreadPool(4);
            try {
                for (int i = 0; i < 4; i++) {
                    racers.add(threads.submit(() -> {
                        start.await();
                        return r.claim("vm1");
                    }));
                }
                start.countDown();
                List<Claim> winners = new ArrayList<>();
                int refused = 0;
                for (Future<Claim> racer : racers) {
                    try {
                        winners.add(racer.get());
                    } catch (ExecutionException e) {
                        ControlException refusal = (ControlException) e.getCause();
                        assertEquals(ControlException.EBUSY, refusal.errno(), refusal::toString);
                        refused++;
                    }
                }
                assertEquals(1, winners.size(), "one claim wins, " + refused + " refused");
                assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm1"));
                winners.get(0).close();
            } finally {
                threads.shutdownNow();
            }
            try (Stream<Path> left = Files.list(r.directory())) {
                assertEquals(List.of(".lock"), left.map(p -> p.getFileName().toString()).toList(),
                        "nothing but the lock file is left after round " + round);
            }
        }
    }

    @Test
    void aDeadProcessesSocketIsStaleAndReplaced() throws Exception {
        long dead = deadPid();
        leaveDeadSocket("vm1", dead, 0, null);
        Registry r = registry();
        Registry.Entry.Stale stale = assertInstanceOf(Registry.Entry.Stale.class, r.inspect("vm1"));
        assertEquals("process " + dead + " is gone", stale.why());
        try (Claim claim = r.claim("vm1")) {
            assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm1"));
        }
        assertInstanceOf(Registry.Entry.Absent.class, r.inspect("vm1"));
    }

    @Test
    void aSocketWithoutOwnerOnFileIsStale() throws Exception {
        Path vmm = registry().directory();
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(vmm.resolve("vm1")));
        }
        assertInstanceOf(Registry.Entry.Stale.class, registry().inspect("vm1"));
    }

    @Test
    void aReusedPidWithAnotherStartTimeIsNotTrusted() throws Exception {
        long me = ProcessHandle.current().pid();
        long myStart = Registry.startMillis(ProcessHandle.current());
        leaveDeadSocket("vm1", me, myStart - 3_600_000, null);
        assertInstanceOf(Registry.Entry.Stale.class, registry().inspect("vm1"));
    }

    @Test
    void aLiveOwnerWhoseSocketRefusesIsStillStopping() throws Exception {
        leaveDeadSocket("vm1", ProcessHandle.current().pid(), Registry.startMillis(ProcessHandle.current()), null);
        Registry r = registry();
        Registry.Entry.Running e = assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm1"));
        assertFalse(e.accepting());
        ControlException refused = assertThrows(ControlException.class, () -> r.claim("vm1"));
        assertTrue(refused.getMessage().startsWith("vm vm1 is still stopping"), refused.getMessage());
    }

    @Test
    void aCreatedVmKeepsItsRecordAcrossARun() throws Exception {
        Registry r = registry();
        r.create(loaded("vm1"), false);
        assertEquals("rw-------", mode(rundir.resolve("vmm/vm1")));
        assertEquals(loaded("vm1"), assertInstanceOf(Registry.Entry.Created.class, r.inspect("vm1")).record());
        try (Claim claim = r.claim("vm1")) {
            assertEquals(loaded("vm1"), claim.record());
            assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm1"));
        }
        assertEquals(loaded("vm1"), assertInstanceOf(Registry.Entry.Created.class, r.inspect("vm1")).record());
    }

    @Test
    void destroyingTheRunEndsACreatedVm() {
        Registry r = registry();
        r.create(loaded("vm1"), false);
        Claim claim = r.claim("vm1");
        claim.release(true);
        assertInstanceOf(Registry.Entry.Absent.class, r.inspect("vm1"));
    }

    @Test
    void aCrashedRunOfACreatedVmGivesItsRecordBack() throws Exception {
        leaveDeadSocket("vm1", deadPid(), 0, loaded("vm1"));
        Registry r = registry();
        assertEquals(loaded("vm1"), assertInstanceOf(Registry.Entry.Stale.class, r.inspect("vm1")).record());
        r.removeStale("vm1");
        assertEquals(loaded("vm1"), assertInstanceOf(Registry.Entry.Created.class, r.inspect("vm1")).record());
        try (Claim claim = r.claim("vm1")) {
            assertEquals(loaded("vm1"), claim.record(), "a new run finds it too");
        }
    }

    @Test
    void createRefusesExistingAndRunningVms() {
        Registry r = registry();
        r.create(VmRecord.empty("vm1", "bhyvectl"), false);
        assertEquals(ControlException.EEXIST,
                assertThrows(ControlException.class, () -> r.create(VmRecord.empty("vm1", "bhyvectl"), false)).errno());
        r.create(loaded("vm1"), true); // bhyveload redefines
        assertEquals(loaded("vm1"), assertInstanceOf(Registry.Entry.Created.class, r.inspect("vm1")).record());
        try (Claim claim = r.claim("vm2")) {
            assertEquals(ControlException.EBUSY,
                    assertThrows(ControlException.class, () -> r.create(loaded("vm2"), true)).errno());
        }
    }

    @Test
    void destroyRemovesCreatedVmsAndHandsBackRunningOnes() {
        Registry r = registry();
        r.create(loaded("vm1"), false);
        assertTrue(r.destroy("vm1").isEmpty());
        assertInstanceOf(Registry.Entry.Absent.class, r.inspect("vm1"));
        assertEquals(ControlException.ENOENT, assertThrows(ControlException.class, () -> r.destroy("vm1")).errno());
        try (Claim claim = r.claim("vm2")) {
            assertTrue(r.destroy("vm2").isPresent());
            assertInstanceOf(Registry.Entry.Running.class, r.inspect("vm2"), "a running VM is asked, not removed");
        }
    }

    @Test
    void anUnreadableRecordIsStaleAndAForeignFileIsRefused() throws Exception {
        Registry r = registry();
        Files.writeString(r.directory().resolve("vm1"), "not json");
        assertInstanceOf(Registry.Entry.Stale.class, r.inspect("vm1"));
        Files.createDirectory(r.directory().resolve("vm2"));
        assertEquals(ControlException.EEXIST, assertThrows(ControlException.class, () -> r.inspect("vm2")).errno());
    }

    @Test
    void namesThatCouldEscapeTheDirectoryAreRefused() {
        Registry r = registry();
        for (String bad : List.of("../vm", ".hidden", "a/b", "", "-x")) {
            assertEquals(ControlException.EINVAL, assertThrows(ControlException.class, () -> r.inspect(bad)).errno(),
                    bad);
        }
    }

    @Test
    void aSocketPathTooLongForUnixSocketsIsOneClearError() throws Exception {
        Path deep = rundir.resolve("d".repeat(60)).resolve("e".repeat(60));
        Registry r = Registry.at(deep);
        ControlException e = assertThrows(ControlException.class, () -> r.claim("vm1"));
        assertTrue(e.getMessage().contains("too long for a Unix socket"), e.getMessage());
        assertInstanceOf(Registry.Entry.Absent.class, r.inspect("vm1"));
    }
}
