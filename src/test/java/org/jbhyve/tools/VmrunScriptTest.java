package org.jbhyve.tools;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bin/vmrun.sh against a fake bhyve: the command lines it builds, its reboot loop, its signals and
 * its usage text. Network taps are in {@link VmrunTapTest}; "lo" stands for an existing tap here.
 */
class VmrunScriptTest {
    @TempDir
    Path dir;

    private VmrunHarness vm() {
        return new VmrunHarness(dir);
    }

    @Test
    void defaultsBootTheDiskThroughSeaBiosWithVirtioDevices() throws Exception {
        VmrunHarness h = vm().statuses("1");
        h.disk("disk.img", true);
        VmrunHarness.Result r = h.run("-c", "1", "-m", "256M", "-d", "disk.img", "-t", "lo", "vm1");
        assertEquals(1, r.status(), r.err());
        assertEquals(1, h.runs());
        assertEquals(List.of("-c", "1", "-m", "256M", "-A", "-H", "-P", "-l", "bootrom," + h.bios,
                "-s", "0:0,hostbridge", "-s", "1:0,lpc", "-s", "2:0,virtio-blk,disk.img", "-s", "3:0,virtio-net,lo",
                "-l", "com1,stdio", "vm1"), h.argv(1));
        assertTrue(r.out().startsWith("Launching virtual machine \"vm1\" ..."), r.out());
        assertEquals("--vm=vm1 --destroy\n--vm=vm1 --destroy\n", h.read("bhyvectl.log"),
                "a left-over registration is destroyed before, and the entry after a clean exit");
    }

    @Test
    void guestRebootStartsTheVmAgainUntilAnotherStatus() {
        VmrunHarness h = vm().statuses("0", "0", "2");
        h.disk("disk.img", true);
        VmrunHarness.Result r = h.run("-d", "disk.img", "-t", "lo", "vm1");
        assertEquals(2, r.status(), r.err());
        assertEquals(3, h.runs());
        assertEquals(h.argv(1), h.argv(3), "every turn runs the same VM");
        assertEquals(List.of("-c", "2", "-m", "512M"), h.argv(1).subList(0, 4), "FreeBSD's defaults");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7, 129})
    void anyStatusButZeroEndsTheLoopWithThatStatus(int status) {
        VmrunHarness h = vm().statuses("0", Integer.toString(status), "0");
        h.disk("disk.img", true);
        VmrunHarness.Result r = h.run("-d", "disk.img", "-t", "lo", "vm1");
        assertEquals(status, r.status(), r.err());
        assertEquals(2, h.runs());
        String ctl = h.read("bhyvectl.log");
        assertEquals(status <= 2 ? 2 : 1, ctl.lines().count(), "destroy after the loop only for 0, 1, 2: " + ctl);
    }

    @Test
    void uefiUsesOvmfWithAVarsCopyBesideTheFirstDiskKeptAcrossRuns() throws Exception {
        VmrunHarness h = vm().statuses("1", "1");
        h.disk("vms/disk.img", true);
        h.run("-E", "-d", "vms/disk.img", "-t", "lo", "vm1");
        Path vars = dir.resolve("vms/vm1_VARS.fd");
        assertEquals("VARS-TEMPLATE", Files.readString(vars));
        List<String> argv = h.argv(1);
        assertEquals("bootrom," + h.uefiCode + ",vms/vm1_VARS.fd", argv.get(argv.indexOf("-l") + 1));
        Files.writeString(vars, "SAVED-BY-GUEST");
        h.run("-E", "-d", "vms/disk.img", "-t", "lo", "vm1");
        assertEquals("SAVED-BY-GUEST", Files.readString(vars), "the guest's variables are never overwritten");
        assertFalse(argv.stream().anyMatch(a -> a.contains("fbuf")), "no framebuffer unless asked for");
    }

    @Test
    void uefiVarsOfABlockDeviceDiskGoToTheStateDirectory() throws Exception {
        VmrunHarness h = vm().statuses("1");
        h.write("install.iso", "ISO");
        ProcessBuilder pb = h.command(List.of(), "-E", "-I", "install.iso", "-d", "/dev/null", "-t", "lo", "vm1");
        pb.environment().put("JBHYVE_STATE_DIR", dir.resolve("state").toString());
        assertEquals(1, VmrunHarness.run(pb).status());
        assertEquals("VARS-TEMPLATE", Files.readString(dir.resolve("state/vm1_VARS.fd")), "not in /dev");
        assertTrue(h.argv(1).contains("bootrom," + h.uefiCode + "," + dir.resolve("state/vm1_VARS.fd")));
    }

    @Test
    void installerIsoBootsFirstOnAhciCd() {
        VmrunHarness h = vm().statuses("0", "1", "1");
        h.disk("disk.img", true);
        h.write("install.iso", "ISO");
        VmrunHarness.Result r = h.run("-i", "-I", "install.iso", "-d", "disk.img", "-t", "lo", "vm1");
        assertEquals(1, r.status(), r.err());
        List<String> argv = h.argv(1);
        assertEquals(List.of("-s", "31:0,ahci-cd,install.iso,bootindex=1", "vm1"),
                argv.subList(argv.size() - 3, argv.size()));
        assertEquals(argv, h.argv(2), "-i boots the CD on every turn");
        assertTrue(argv.contains("2:0,virtio-blk,disk.img"), "the disk to install onto is there too");
    }

    @Test
    void aDiskWithoutBootSectorBootsTheInstallerUntilOneIsWritten() {
        VmrunHarness h = vm().statuses("0", "install:0", "1");
        Path disk = h.disk("disk.img", false);
        h.write("install.iso", "ISO");
        ProcessBuilder pb = h.command(List.of(), "-I", "install.iso", "-d", "disk.img", "-t", "lo", "vm1");
        pb.environment().put("FAKE_INSTALL_DISK", disk.toString());
        VmrunHarness.Result r = VmrunHarness.run(pb);
        assertEquals(1, r.status(), r.err());
        assertEquals(3, h.runs());
        assertTrue(h.argv(1).contains("31:0,ahci-cd,install.iso,bootindex=1"), "an empty disk: the installer");
        assertTrue(h.argv(2).contains("31:0,ahci-cd,install.iso,bootindex=1"), "still nothing on the disk");
        assertFalse(h.argv(3).stream().anyMatch(a -> a.contains("ahci-cd")), "installed: the disk boots by itself");
    }

    @Test
    void unreadableInstallerIsOneLineAndNoVm() {
        VmrunHarness h = vm();
        VmrunHarness.Result r = h.run("-i", "-I", "missing.iso", "-d", "disk.img", "-t", "lo", "vm1");
        assertEquals(1, r.status());
        assertTrue(r.out().contains("Installation CDROM image \"missing.iso\" is not readable"), r.out());
        assertEquals(0, h.runs());
    }

    @Test
    void missingDiskIsCreatedSparse() throws Exception {
        VmrunHarness h = vm().statuses("1");
        h.write("install.iso", "ISO");
        h.run("-i", "-I", "install.iso", "-d", "new.img", "-t", "lo", "vm1");
        assertEquals(8L << 30, Files.size(dir.resolve("new.img")));
    }

    @Test
    void optionsBecomeBhyveOptionsAndDevices() {
        VmrunHarness h = vm().statuses("1");
        h.disk("a.img", true);
        h.disk("b.img", false);
        h.run("-a", "-A", "-u", "-w", "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "-G", "w1234", "-n", "e1000",
                "-d", "a.img,nocache", "-d", "b.img", "-t", "lo", "-t", "lo,mac=00:a0:98:00:00:01",
                "-p", "10/0/0", "-C", "/dev/nmdm0A", "-c", "4", "-m", "1G", "vm2");
        assertEquals(List.of("-c", "4", "-m", "1G", "-A", "-H", "-P", "-a", "-u", "-w", "-G", "w1234",
                "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "-S", "-l", "bootrom," + h.bios,
                "-s", "0:0,hostbridge", "-s", "1:0,lpc", "-s", "2:0,ahci-hd,a.img,nocache", "-s", "3:0,ahci-hd,b.img",
                "-s", "4:0,e1000,lo", "-s", "5:0,e1000,lo,mac=00:a0:98:00:00:01", "-s", "6:0,passthru,10/0/0",
                "-l", "com1,/dev/nmdm0A", "vm2"), h.argv(1));
    }

    @Test
    void uefiFramebufferAndTabletWhenAskedFor() {
        VmrunHarness h = vm().statuses("1");
        h.disk("disk.img", true);
        h.run("-E", "-P", "5901", "-L", "0.0.0.0", "-F", "w=800,h=600", "-v", "-T", "-g", "1234", "-d", "disk.img",
                "-t", "lo", "vm1");
        List<String> argv = h.argv(1);
        assertTrue(argv.contains("29,fbuf,tcp=0.0.0.0:5901,w=800,h=600,wait"), argv.toString());
        assertTrue(argv.contains("30,xhci,tablet"), argv.toString());
        assertEquals("1234", argv.get(argv.indexOf("-G") + 1), "old -g gdbport is -G port");
    }

    @Test
    void loaderKeysBootAKernelWithoutFirmware() throws Exception {
        VmrunHarness h = vm().statuses("1");
        h.disk("disk.img", false);
        Path boot = Files.createDirectories(dir.resolve("boot"));
        h.run("-H", "boot", "-e", "boot.kernel=vmlinuz", "-e", "boot.initrd=/abs/initrd.img",
                "-e", "boot.cmdline=console=ttyS0 root=/dev/vda1", "-d", "disk.img", "-t", "lo", "vm1");
        List<String> argv = h.argv(1);
        assertEquals(List.of("-o", "boot.kernel=" + boot.toRealPath() + "/vmlinuz", "-o", "boot.initrd=/abs/initrd.img",
                "-o", "boot.cmdline=console=ttyS0 root=/dev/vda1"), argv.subList(7, 13));
        assertFalse(argv.stream().anyMatch(a -> a.startsWith("bootrom") || a.contains("ahci-cd")), argv.toString());
    }

    @Test
    void usageListsEveryOptionAndExits1() {
        VmrunHarness.Result r = vm().run("-h");
        assertEquals(1, r.status());
        assertTrue(r.out().startsWith("Usage: vmrun.sh [-aAEhiTuvw] [-c <CPUs>]"), r.out());
        for (char c : "aAcCdeEfFgGhHiIlLmnpPtTuUvw".toCharArray()) {
            assertTrue(r.out().contains("       -" + c + ": "), "usage explains -" + c);
        }
        assertTrue(r.out().contains("default: 512M"), r.out());
    }

    @Test
    void badInvocationsPrintUsageWithOneReason() {
        VmrunHarness h = vm();
        List<String> reasons = new ArrayList<>();
        for (String[] args : new String[][] {{"-d", "disk.img"}, {"-l", "/boot/userboot.so", "vm1"},
                {"-e", "console=comconsole", "vm1"}, {"-Z", "vm1"}, {"vm1", "vm2"}}) {
            VmrunHarness.Result r = h.run(args);
            assertEquals(1, r.status(), List.of(args).toString());
            assertTrue(r.out().startsWith("Usage: vmrun.sh"), r.out());
            r.out().lines().filter(l -> l.startsWith("*** ")).forEach(reasons::add);
        }
        assertEquals(List.of("*** virtual machine name not specified",
                "*** -l /boot/userboot.so: FreeBSD's userboot loader does not exist on Linux: the guest boots its"
                        + " firmware, or use -e boot.kernel=PATH",
                "*** -e console=comconsole: the loader keys on Linux are boot.kernel, boot.initrd and boot.cmdline",
                "*** virtual machine name not specified"), reasons);
        assertEquals(0, h.runs());
    }

    @Test
    void missingFirmwareNamesThePackage() {
        VmrunHarness h = vm();
        h.disk("disk.img", true);
        ProcessBuilder pb = h.command(List.of(), "-E", "-d", "disk.img", "-t", "lo", "vm1");
        pb.environment().put("JBHYVE_UEFI_CODE", dir.resolve("nope.fd").toString());
        VmrunHarness.Result r = VmrunHarness.run(pb);
        assertEquals(1, r.status());
        assertEquals("Error: Firmware file " + dir.resolve("nope.fd") + " doesn't exist.\n"
                + "       Try: apt-get install ovmf\n", r.out());
    }

    @Test
    void sigtermReachesBhyveAndEndsTheLoopWhateverItsStatus() throws Exception {
        VmrunHarness h = vm().statuses("wait-term:0", "1");
        h.disk("disk.img", true);
        Path stdin = h.write("console-input", "typed");
        Process p = h.command(List.of(), "-d", "disk.img", "-t", "lo", "vm1")
                .redirectInput(stdin.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (h.read("ready.1") == null && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertNotNull(h.read("ready.1"), "bhyve started");
        new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals("TERM\n", h.read("signals.1"), "the power button is pressed once");
        assertEquals(0, p.exitValue(), "bhyve's status");
        assertEquals(1, h.runs(), "a stop was asked for: no restart even on status 0");
        assertEquals(stdin.toString(), h.read("stdin.1").strip(), "bhyve keeps vmrun.sh's standard input");
        long ignored = Long.parseLong(h.read("sigign.1").replaceAll("\\s", "").substring("SigIgn:".length()), 16);
        assertEquals(0, ignored & 0b110, "SIGINT and SIGQUIT reach bhyve (mask " + Long.toHexString(ignored) + ")");
    }
}
