package org.jbhyve.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void rundirFollowsTheEnvironmentAndTheUser() {
        assertEquals(Path.of("/srv/vms"), RunDirectory.resolve(Map.of("JBHYVE_RUNDIR", "/srv/vms",
                "XDG_RUNTIME_DIR", "/run/user/1000"), 0, "/tmp"));
        assertEquals(Path.of("/run/jbhyve"), RunDirectory.resolve(Map.of("XDG_RUNTIME_DIR", "/run/user/0"), 0, "/tmp"));
        assertEquals(Path.of("/run/user/1000/jbhyve"),
                RunDirectory.resolve(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), 1000, "/tmp"));
        assertEquals(Path.of("/var/tmp/jbhyve-1000"), RunDirectory.resolve(Map.of(), 1000, "/var/tmp"));
        assertEquals(Path.of("/run/user/7/jbhyve"),
                RunDirectory.resolve(Map.of("JBHYVE_RUNDIR", "", "XDG_RUNTIME_DIR", "/run/user/7"), 7, "/tmp"));
    }

    @Test
    void theUidIsThisProcesses() throws Exception {
        assertEquals(Files.getAttribute(Path.of("/proc/self/"), "unix:uid"), RunDirectory.uid());
    }

    @Test
    void prepareMakesOwnerOnlyDirectoriesAndTightensALooseOne() throws Exception {
        Path vmm = RunDirectory.prepare(tmp.resolve("a/rundir"));
        assertEquals(tmp.resolve("a/rundir/vmm"), vmm);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(vmm)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(vmm.getParent())));
        Files.setPosixFilePermissions(vmm, PosixFilePermissions.fromString("rwxr-xr-x"));
        RunDirectory.prepare(tmp.resolve("a/rundir"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(vmm)));
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsOneLine() throws Exception {
        Files.createDirectories(tmp.resolve("r"));
        Files.writeString(tmp.resolve("r/vmm"), "");
        ControlException e = assertThrows(ControlException.class, () -> RunDirectory.prepare(tmp.resolve("r")));
        assertEquals("cannot create the VM registry " + tmp.resolve("r/vmm")
                + ": not a directory (JBHYVE_RUNDIR chooses another place)", e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }
}
