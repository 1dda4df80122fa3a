package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jbhyve.config.ConfigException;
import org.jbhyve.control.Claim;
import org.jbhyve.control.ControlException;
import org.jbhyve.control.Registry;
import org.jbhyve.control.VmRecord;
import org.jbhyve.machine.MachineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bhyve and the registry before any KVM is touched: a name in use, a created VM's record, and
 * the entry after a start that failed (a missing boot ROM fails before KVM is opened).
 */
class BhyveRegistryTest {
    @TempDir
    Path rundir;

    private int bhyve(String... args) throws Exception {
        return BhyveMain.run(args, new PrintStream(new ByteArrayOutputStream()), () -> Registry.at(rundir));
    }

    @Test
    void aSecondBhyveWithARunningNameIsRefusedWithStatusFour() throws Exception {
        try (Claim running = Registry.at(rundir).claim("vm1")) {
            ControlException e = assertThrows(ControlException.class,
                    () -> bhyve("-o", "boot.kernel=/nonexistent", "vm1"));
            assertEquals("vm vm1 is already running (pid " + ProcessHandle.current().pid() + ")", e.getMessage());
            assertEquals(4, BhyveMain.fail(e));
            assertInstanceOf(Registry.Entry.Running.class, Registry.at(rundir).inspect("vm1"));
        }
    }

    @Test
    void aFailedStartLeavesNoEntry() {
        assertThrows(MachineException.class, () -> bhyve("-l", "bootrom,/nonexistent/rom.fd", "vm1"));
        assertInstanceOf(Registry.Entry.Absent.class, Registry.at(rundir).inspect("vm1"));
    }

    @Test
    void aFailedStartOfACreatedVmKeepsItsRecord() {
        VmRecord loaded = new VmRecord("vm1", "bhyveload", 256L << 20, false, false, "/boot/vmlinuz", null, null,
                null, List.of(), "stdio", Map.of());
        Registry.at(rundir).create(loaded, false);
        assertThrows(MachineException.class, () -> bhyve("-l", "bootrom,/nonexistent/rom.fd", "vm1"));
        assertEquals(loaded, assertInstanceOf(Registry.Entry.Created.class, Registry.at(rundir).inspect("vm1")).record());
        ConfigException e = assertThrows(ConfigException.class, () -> bhyve("-m", "1G", "vm1"));
        assertEquals("-m 1G disagrees with the 256M vm vm1 was created with (by bhyveload;"
                + " bhyvectl --destroy --vm=vm1 starts over)", e.getMessage());
        assertInstanceOf(Registry.Entry.Created.class, Registry.at(rundir).inspect("vm1"));
    }

    @Test
    void aConfigDumpNeverTouchesTheRegistry() throws Exception {
        try (Claim running = Registry.at(rundir).claim("vm1")) {
            assertEquals(1, bhyve("-o", "config.dump=1", "vm1"));
        }
    }
}
