package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The test guest's own virtio drivers (src/test/guest/virtio.c, legacy and modern interface)
 * against jbhyve's virtio-blk, virtio-rnd and virtio-console, as the check describes:
 * read a sector the host prepared, write one the host then finds in the file, flush, IOERR past
 * the end, IOERR writing to a ",ro" disk whose file stays byte-identical.
 */
class VirtioDriverIT {
    private static final int SECTOR = 512;

    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    private Path disk() throws Exception {
        byte[] image = new byte[1 << 20];
        byte[] text = "HOSTDATA".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < SECTOR; i++) {
            image[i] = text[i % text.length];
        }
        Path p = dir.resolve("disk.img");
        Files.write(p, image);
        return p;
    }

    private static VmRun guest(String devices, String cmdline) {
        List<String> args = new java.util.ArrayList<>(List.of("-m", "128M", "-s", "0,hostbridge", "-s", "1,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("virtio.elf"),
                "-o", "boot.cmdline=" + cmdline));
        for (String d : devices.split(" ")) {
            args.add("-s");
            args.add(d);
        }
        args.add("vm");
        return VmRun.bhyve(args.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0} interface")
    @ValueSource(strings = {"legacy", "modern"})
    void blockReadWriteFlushAndErrors(String iface) throws Exception {
        Path disk = disk();
        VmRun run = guest("2,virtio-blk," + disk + " 3,virtio-rnd",
                "iface=" + iface + " blk=read:0,write:1:ABCD,flush,read:1,readpast,getid rng=64");
        assertEquals(1, run.exitCode, run::toString);
        List<String> blk = run.probeLines("vblk");
        assertTrue(blk.get(0).matches("00:02\\.0 iface " + iface + " capacity 2048 blk_size 512 features \\p{XDigit}+ ro 0"),
                run::toString);
        String hostData = HexFormat.of().formatHex("HOSTDATAHOSTDATA".getBytes(StandardCharsets.US_ASCII));
        assertTrue(blk.contains("read 0 status 0 data " + hostData), run::toString);
        assertTrue(blk.contains("write 1 status 0"), run::toString);
        assertTrue(blk.contains("flush status 0"), run::toString);
        assertTrue(blk.contains("read 1 status 0 data " + HexFormat.of().formatHex("ABCDABCDABCDABCD".getBytes())),
                run::toString);
        assertTrue(blk.contains("readpast status 1"), "reading past the end is IOERR:\n" + run);
        assertTrue(blk.stream().anyMatch(l -> l.startsWith("id \"BHYVE-") && l.endsWith("status 0")), run::toString);
        byte[] sector1 = java.util.Arrays.copyOfRange(Files.readAllBytes(disk), SECTOR, 2 * SECTOR);
        byte[] expected = new byte[SECTOR];
        for (int i = 0; i < SECTOR; i++) {
            expected[i] = (byte) "ABCD".charAt(i % 4);
        }
        assertArrayEquals(expected, sector1, "the guest's write reached the file");
        String rng = run.probeLines("vrng").get(0);
        assertTrue(rng.matches("00:03\\.0 got 64 nonzero \\d+"), run::toString);
        assertTrue(Integer.parseInt(rng.substring(rng.lastIndexOf(' ') + 1)) > 48, "entropy looks random: " + rng);
    }

    @ParameterizedTest(name = "{0} interface")
    @ValueSource(strings = {"legacy", "modern"})
    void readOnlyDiskRefusesWritesAndStaysIdentical(String iface) throws Exception {
        Path disk = disk();
        byte[] before = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(disk));
        VmRun run = guest("2,virtio-blk," + disk + ",ro", "iface=" + iface + " blk=writero:1:EVIL,read:0,flush");
        assertEquals(1, run.exitCode, run::toString);
        List<String> blk = run.probeLines("vblk");
        assertTrue(blk.get(0).endsWith("ro 1"), run::toString);
        assertTrue(blk.contains("writero 1 status 1"), "IOERR on a read-only disk:\n" + run);
        assertTrue(blk.stream().anyMatch(l -> l.startsWith("read 0 status 0")), run::toString);
        assertArrayEquals(before, MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(disk)),
                "file unchanged");
    }

    @Tag("core")
    @Test
    void flushedWritesSurviveKillingTheVmm() throws Exception {
        Path disk = disk();
        Process vm = new ProcessBuilder(VmRun.HOME.resolve("bin/bhyve").toString(), "-m", "128M",
                "-s", "0,hostbridge", "-s", "1,lpc", "-s", "2,virtio-blk," + disk, "-l", "com1,stdio",
                "-o", "boot.kernel=" + VmRun.testGuest("virtio.elf"),
                "-o", "boot.cmdline=blk=write:7:KEEP,flush spin=1", "vm")
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectErrorStream(true).start();
        try {
            String seen = VmRun.readUntil(vm.getInputStream(), "JBT spinning");
            assertTrue(seen.contains("JBT vblk flush status 0"), seen);
            vm.destroyForcibly(); // SIGKILL: no chance to clean up
            assertTrue(vm.waitFor(30, TimeUnit.SECONDS));
        } finally {
            vm.destroyForcibly();
        }
        byte[] sector7 = java.util.Arrays.copyOfRange(Files.readAllBytes(disk), 7 * SECTOR, 8 * SECTOR);
        assertEquals("KEEPKEEPKEEPKEEP", new String(sector7, 0, 16, StandardCharsets.US_ASCII));
    }

    /** Connects to a Unix socket, retrying while it is not yet accepting (as a user's client would). */
    private static SocketChannel connect(Path sock, long deadline) throws Exception {
        while (true) {
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                c.connect(UnixDomainSocketAddress.of(sock));
                return c;
            } catch (java.net.ConnectException e) {
                c.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    @ParameterizedTest(name = "{0} interface")
    @ValueSource(strings = {"legacy", "modern"})
    void consolePortIsAUnixSocket(String iface) throws Exception {
        Path sock = dir.resolve("con.sock");
        Process vm = new ProcessBuilder(VmRun.HOME.resolve("bin/bhyve").toString(), "-m", "128M",
                "-s", "0,hostbridge", "-s", "1,lpc", "-s", "4,virtio-console,port1=" + sock, "-l", "com1,stdio",
                "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("virtio.elf"),
                "-o", "boot.cmdline=iface=" + iface + " con=HelloConsole contime=20", "vm")
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectErrorStream(true).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180); // a slow host starts the JVM slowly
            while (!Files.exists(sock) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(sock), "bhyve creates the port's socket");
            try (SocketChannel client = connect(sock, deadline)) {
                InputStream in = Channels.newInputStream(client);
                OutputStream out = Channels.newOutputStream(client);
                byte[] got = in.readNBytes("HelloConsole".length());
                assertEquals("HelloConsole", new String(got, StandardCharsets.US_ASCII));
                out.write(got); // echo back
                out.flush();
                String seen = VmRun.readUntil(vm.getInputStream(), "JBT exit");
                assertTrue(seen.contains("JBT vcon recv \"HelloConsole\""), seen);
            }
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, vm.exitValue());
            assertTrue(!Files.exists(sock), "bhyve removes its sockets at exit");
        } finally {
            vm.destroyForcibly();
        }
    }
}
