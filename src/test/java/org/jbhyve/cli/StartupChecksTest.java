package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.jbhyve.cli.BhyveInProcess.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Command lines bhyve refuses before it opens /dev/kvm, run through the command's entry point:
 * one {@code bhyve: } line on stderr, status 4, no stack trace. (This host may have no KVM at
 * all: a check that came after opening it would fail these tests with KVM's message instead.)
 */
class StartupChecksTest {
    @TempDir
    Path rundir;

    private Outcome bhyve(String... args) {
        return BhyveInProcess.run(rundir, args);
    }

    @Test
    void configDumpExitsOneAsBhyveDoes() {
        Outcome o = bhyve("-m", "1G", "-o", "config.dump=1", "vm1");
        assertEquals(1, o.status(), o::toString);
        assertEquals(List.of(), o.err());
        assertTrue(o.out().lines().toList().contains("memory.size=1G"), o.out());
    }
}
