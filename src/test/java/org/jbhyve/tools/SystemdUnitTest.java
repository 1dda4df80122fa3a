package org.jbhyve.tools;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.cli.BhyveCommandLine;
import org.jbhyve.cli.ParsedCommand;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.machine.MachineSpec;
import org.jbhyve.testing.HostCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etc/systemd/jbhyve@.service and the example VM it starts: systemd accepts the unit, the unit
 * maps bhyve's exit statuses and signals as documented, and the example conf is a VM bhyve
 * builds. {@code systemd-analyze} comes with Debian's systemd package (.ci/run installs it);
 * without it the test fails rather than skips.
 */
class SystemdUnitTest {
    private static final Path UNIT = VmrunHarness.HOME.resolve("etc/systemd/jbhyve@.service");
    private static final Path EXAMPLE = VmrunHarness.HOME.resolve("etc/jbhyve/example.conf");

    @TempDir
    Path dir;

    private static String analyzeVerify(Path unit) {
        String which = HostCommand.run(false, "sh", "-c", "command -v systemd-analyze").strip();
        assertFalse(which.isEmpty(), "systemd-analyze is missing: apt-get install systemd (.ci/run does)");
        return HostCommand.run(false, "systemd-analyze", "verify", unit.toString());
    }

    /** The unit with its ExecStart pointing at this checkout's bin/bhyve, as an installed copy would. */
    private Path installedCopy(String replace, String with) throws IOException {
        String text = Files.readString(UNIT).replace("/opt/jbhyve/", VmrunHarness.HOME + "/").replace(replace, with);
        return Files.writeString(dir.resolve("jbhyve@.service"), text);
    }

    @Test
    void systemdAnalyzeVerifyAcceptsTheUnitWithoutAWord() throws IOException {
        assertEquals("", analyzeVerify(installedCopy("", "")));
        Files.delete(dir.resolve("jbhyve@.service"));
        String broken = analyzeVerify(installedCopy("Restart=no", "Restart=sometimes"));
        assertTrue(broken.contains("Failed to parse service restart specifier"),
                "the check sees a mistake in the unit: " + broken);
    }

    @Test
    void theUnitRunsBhyveOnTheConfAndFollowsItsExitStatus() throws IOException {
        Map<String, String> service = section(Files.readAllLines(UNIT), "Service");
        assertEquals("/opt/jbhyve/bin/bhyve -k /etc/jbhyve/%i.conf %i", service.get("ExecStart"));
        assertEquals("0", service.get("RestartForceExitStatus"), "a guest reboot (0) starts the VM again");
        assertEquals("1", service.get("SuccessExitStatus"), "a power-off (1) is a clean stop");
        assertEquals("no", service.get("Restart"), "2, 3 and 4 leave the unit failed");
        assertEquals("SIGTERM", service.get("KillSignal"), "stop presses the power button");
        assertEquals("mixed", service.get("KillMode"));
        assertEquals("yes", service.get("SendSIGKILL"));
        assertTrue(Integer.parseInt(service.get("TimeoutStopSec")) >= 60, "time for the guest to shut down");
        assertEquals("JBHYVE_NO_BUILD=1", service.get("Environment"));
        assertEquals("multi-user.target", section(Files.readAllLines(UNIT), "Install").get("WantedBy"));
    }

    @Test
    void theExampleConfIsAVmBhyveBuilds() throws IOException {
        ParsedCommand.Run run = assertInstanceOf(ParsedCommand.Run.class,
                BhyveCommandLine.parse("-k", EXAMPLE.toString(), "vm1"));
        ConfigTree tree = run.tree();
        MachineSpec spec = MachineSpec.from(tree);
        assertEquals("vm1", spec.name(), "the unit's instance name names the VM");
        assertTrue(spec.acpi(), "ACPI, so that SIGTERM reaches the guest");
        assertEquals(1L << 30, spec.memoryBytes());
        assertEquals("/dev/nmdm0A", spec.comPorts().get("com1"));
        assertEquals("/usr/share/seabios/bios-256k.bin", spec.bootrom());
        assertEquals(List.of("hostbridge", "lpc", "virtio-blk", "virtio-net"),
                spec.pciSlots().stream().map(MachineSpec.PciSlot::device).toList());
        assertEquals("tap0", tree.get("pci.0.3.0.backend").orElseThrow());
    }

    /** The key=value lines of one [section] (later keys win; comments skipped). */
    private static Map<String, String> section(List<String> lines, String name) {
        Map<String, String> keys = new LinkedHashMap<>();
        String current = "";
        for (String raw : lines) {
            String line = raw.strip();
            if (line.startsWith("[")) {
                current = line.substring(1, line.length() - 1);
            } else if (current.equals(name) && !line.startsWith("#") && line.contains("=")) {
                keys.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        return keys;
    }
}
