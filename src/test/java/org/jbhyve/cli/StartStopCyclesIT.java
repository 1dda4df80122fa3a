package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jbhyve.cli.BhyveInProcess.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100 VMs, one after the other, in this JVM, each with every device jbhyve has (all storage
 * controllers, both network cards, virtio-rnd and -console, the framebuffer with its VNC server,
 * xHCI, the gdb server, COM1 on TCP, pc-testdev) and a guest that boots and exits: what the
 * tenth left behind, the hundredth must not have grown. Counted: open file descriptors, live
 * threads (the JVM's and the kernel's view), mapped address space (guest RAM and device memory
 * are mappings), and direct buffer memory.
 */
class StartStopCyclesIT {
    private static final int CYCLES = 100;
    private static final int BASELINE_AFTER = 10;
    /** Mapped address space may move a little (JIT code, malloc arenas); one leaked VM is 128 MiB more. */
    private static final long MAPPED_SLACK = 96L << 20;

    @TempDir
    Path dir;

    private record Usage(int fds, int threads, int tasks, long mapped, long direct) {}

    @Test
    @Timeout(value = 60, unit = TimeUnit.MINUTES) // a translated CPU (the emulated machine) takes a while
    void aHundredVmsWithEveryDeviceLeaveNothingBehind() throws Exception {
        assertTrue(Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm")),
                "this test boots guests and needs a usable /dev/kvm");
        Path disk = sized(dir.resolve("disk.img"), 8 << 20);
        Path scsi = sized(dir.resolve("scsi.img"), 8 << 20);
        Path ahci = sized(dir.resolve("ahci.img"), 8 << 20);
        Path nvme = sized(dir.resolve("nvme.img"), 8 << 20);
        Path cd = Path.of(System.getProperty("jbhyve.testGuests", "target/test-guest"), "bootcd.iso");
        Path probe = Path.of(System.getProperty("jbhyve.testGuests", "target/test-guest"), "probe.elf");
        int[] ports = freePorts(3);
        Path rundir = dir.resolve("run");
        List<String> args = List.of("-c", "2", "-m", "128M", "-A", "-H", "-P",
                "-s", "0,hostbridge", "-s", "1,lpc",
                "-s", "2,virtio-blk," + disk, "-s", "3,virtio-scsi," + scsi,
                "-s", "4,ahci,hd:" + ahci + ",cd:" + cd, "-s", "5,nvme," + nvme, "-s", "6,nvme,ram=16",
                "-s", "7,e1000", "-s", "8,virtio-rnd",
                "-s", "9,virtio-console,port0=" + dir.resolve("console.sock"),
                "-s", "29,fbuf,tcp=127.0.0.1:" + ports[0] + ",w=800,h=600", "-s", "30,xhci,tablet",
                "-l", "com1,tcp=127.0.0.1:" + ports[1], "-l", "pc-testdev", "-G", "127.0.0.1:" + ports[2],
                "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action=exit:5",
                // The seccomp filter is for a VMM process, once: in this JVM it would stack up.
                "-o", "security.seccomp=false", "cycles");

        Usage baseline = null;
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            Outcome o = BhyveInProcess.run(rundir, args.toArray(String[]::new));
            assertEquals(11, o.status(), "cycle " + cycle + ": the guest's exit 5 as 5 << 1 | 1: " + o);
            if (cycle == BASELINE_AFTER) {
                baseline = usage();
            }
        }
        Usage end = usage();
        String both = "after " + BASELINE_AFTER + " VMs " + baseline + ", after " + CYCLES + " " + end
                + "\nopen files now: " + openFiles();
        System.out.println(both); // kept in the test's report: what a run measured, pass or fail
        assertTrue(end.fds() <= baseline.fds(), "file descriptors: " + both);
        assertTrue(end.threads() <= baseline.threads(), "threads: " + both);
        assertTrue(end.tasks() <= baseline.tasks(), "kernel tasks: " + both);
        assertTrue(end.mapped() <= baseline.mapped() + MAPPED_SLACK, "mapped address space: " + both);
        assertTrue(end.direct() <= baseline.direct() + (1 << 20), "direct buffers: " + both);
    }

    private static Path sized(Path file, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return file;
    }

    /** Ports free right now on 127.0.0.1 (the kernel's choice, released again). */
    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        ServerSocket[] held = new ServerSocket[n];
        try {
            for (int i = 0; i < n; i++) {
                held[i] = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                ports[i] = held[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                if (s != null) {
                    s.close();
                }
            }
        }
        return ports;
    }

    /** What this JVM holds now, after a collection (unreachable buffers and cleaners run first). */
    private static Usage usage() throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        int fds;
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            fds = (int) s.count();
        }
        int tasks;
        try (Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            tasks = (int) s.count();
        }
        long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return new Usage(fds, Thread.getAllStackTraces().size(), tasks, mappedBytes(), direct);
    }

    /** The sum of every mapping's size in /proc/self/maps. */
    private static long mappedBytes() throws IOException {
        long total = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            total += Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
        }
        return total;
    }

    /** Open descriptors and what they point at, for the failure message. */
    private static TreeMap<String, String> openFiles() throws IOException {
        TreeMap<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    files.put(fd.getFileName().toString(), Files.readSymbolicLink(fd).toString());
                } catch (IOException gone) {
                    // closed while listing
                }
            }
        }
        return files;
    }
}
