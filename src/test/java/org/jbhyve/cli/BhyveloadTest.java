package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jbhyve.control.Claim;
import org.jbhyve.control.Registry;
import org.jbhyve.control.VmRecord;
import org.jbhyve.testing.Kernels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bhyveload: its options, the kernel check without KVM, and the VM it leaves in the registry. */
class BhyveloadTest {
    @TempDir
    Path dir;

    private Path rundir;
    private Path kernel;

    @BeforeEach
    void files() throws Exception {
        rundir = dir.resolve("run");
        Files.createDirectories(dir.resolve("boot"));
        kernel = Files.write(dir.resolve("boot/kernel.elf"), Kernels.pvh(0x100000, 0x1000));
        Files.write(dir.resolve("boot/initrd.img"), "initrd".getBytes(StandardCharsets.US_ASCII));
    }

    private record Run(int status, String err) {}

    private Run bhyveload(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = BhyveloadMain.run(args, new PrintStream(err, true, StandardCharsets.UTF_8),
                () -> Registry.at(rundir));
        return new Run(status, err.toString(StandardCharsets.UTF_8));
    }

    private VmRecord recorded(String name) {
        return assertInstanceOf(Registry.Entry.Created.class, Registry.at(rundir).inspect(name)).record();
    }

    @Test
    void aGoodKernelCreatesTheVmWithWhatWasLoaded() {
        Run run = bhyveload("-m", "512M", "-S", "-e", "boot.kernel=" + kernel, "-e", "boot.cmdline=console=ttyS0 quiet",
                "-e", "autoboot_delay=0", "vm1");
        assertEquals(new Run(0, ""), run);
        VmRecord r = recorded("vm1");
        assertEquals(512L << 20, r.memory());
        assertTrue(r.wired());
        assertEquals(kernel.toString(), r.kernel());
        assertEquals("console=ttyS0 quiet", r.cmdline());
        assertEquals("bhyveload", r.createdBy());
        assertEquals("0", r.env().get("autoboot_delay"));
    }

    @Test
    void relativeBootFilesComeFromTheHostPath() {
        Run run = bhyveload("-CS", "-h", dir.resolve("boot").toString(), "-e", "boot.kernel=kernel.elf",
                "-e", "boot.initrd=initrd.img", "-m256MB", "vm1");
        assertEquals(0, run.status(), run.err());
        VmRecord r = recorded("vm1");
        assertEquals(dir.resolve("boot/kernel.elf").toString(), r.kernel());
        assertEquals(dir.resolve("boot/initrd.img").toString(), r.initrd());
        assertEquals(256L << 20, r.memory());
        assertTrue(r.inCore() && r.wired());
    }

    @Test
    void loadingAgainRedefinesACreatedVm() {
        assertEquals(0, bhyveload("-m", "256M", "-e", "boot.kernel=" + kernel, "vm1").status());
        assertEquals(0, bhyveload("-m", "1G", "-e", "boot.kernel=" + kernel, "vm1").status());
        assertEquals(1L << 30, recorded("vm1").memory());
    }

    @Test
    void aRunningVmIsNotReloaded() {
        try (Claim claim = Registry.at(rundir).claim("vm1")) {
            Run run = bhyveload("-e", "boot.kernel=" + kernel, "vm1");
            assertEquals(1, run.status());
            assertEquals("bhyveload: vm vm1 is running (pid " + ProcessHandle.current().pid() + ")\n", run.err());
        }
    }

    @Test
    void aKernelThatDoesNotFitIsRefusedBeforeAnythingIsCreated() throws Exception {
        Path big = Files.write(dir.resolve("big.elf"), Kernels.pvh(0x100000, 100L << 20));
        Run run = bhyveload("-m", "64M", "-e", "boot.kernel=" + big, "vm1");
        assertEquals(1, run.status());
        assertTrue(run.err().startsWith("bhyveload: ") && run.err().lines().count() == 1, run.err());
        assertInstanceOf(Registry.Entry.Absent.class, Registry.at(rundir).inspect("vm1"));
    }

    @Test
    void notAKernelIsOneLine() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk"), "hello");
        Run run = bhyveload("-e", "boot.kernel=" + junk, "vm1");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("neither an ELF kernel nor a Linux bzImage"), run.err());
    }

    @Test
    void optionErrorsAreOneLineWithBhyveloadsStatuses() throws Exception {
        assertEquals(new Run(64, "bhyveload: -l /boot/userboot.so: FreeBSD's userboot loaders do not run on Linux;"
                + " name the kernel with -e boot.kernel=PATH\n"), bhyveload("-l", "/boot/userboot.so", "vm1"));
        assertEquals(new Run(64, "bhyveload: Invalid memsize 'lots'\n"), bhyveload("-m", "lots", "vm1"));
        assertEquals(new Run(64, "bhyveload: Could not open '/nonexistent/disk.img'\n"),
                bhyveload("-d", "/nonexistent/disk.img", "vm1"));
        assertEquals(new Run(64, "bhyveload: Could not open '" + kernel + "'\n"), bhyveload("-c", kernel.toString(),
                "vm1"));
        assertEquals(1, bhyveload("vm1").status(), "no kernel");
        assertEquals("bhyveload: no kernel to load: give -e boot.kernel=PATH (and optionally boot.initrd,"
                + " boot.cmdline; -h DIR for relative paths)\n", bhyveload("vm1").err());
        assertEquals(1, bhyveload("-e", "boot.kernel=" + kernel).status(), "no name");
        assertTrue(bhyveload("-e", "boot.kernel=" + kernel).err().startsWith("usage: bhyveload [-CS]"));
        Run illegal = bhyveload("-Z", "vm1");
        assertEquals(1, illegal.status());
        assertEquals(1, illegal.err().lines().count());
        assertTrue(illegal.err().startsWith("bhyveload: illegal option -- Z; usage: "), illegal.err());
        assertEquals(1, bhyveload("-e", "boot.kernel=/nonexistent", "vm1").status());
        assertEquals(1, bhyveload("-e", "boot.kernel=" + kernel, "bad/name").status());
    }

    @Test
    void parseKeepsEveryLoaderVariable() {
        VmRecord r = BhyveloadMain.parse("-e", "boot.kernel=" + kernel, "-e", "a=b=c", "-c", "stdio", "vm9");
        assertEquals(Map.of("boot.kernel", kernel.toString(), "a", "b=c"), r.env());
        assertEquals(List.of(), r.disks());
        assertEquals(256L << 20, r.memory(), "bhyveload's default");
        BhyveloadMain.Failure f = assertThrows(BhyveloadMain.Failure.class,
                () -> BhyveloadMain.parse("-e", "novalue", "vm9"));
        assertEquals(64, f.status);
    }
}
