package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.jbhyve.testing.RfbTestClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fbuf end to end: the guest finds fbuf at slot 29 with 800x600x32 in its mode registers and
 * paints two squares; a Java viewer and vncsnapshot see the picture; a key typed in the viewer
 * reaches the guest through the i8042 (set 1 with the controller's translation, set 2
 * without); {@code wait} holds the guest until the viewer connects.
 */
class FbufIT {
    private static String guest;

    @TempDir
    Path dir;

    @BeforeAll
    static void image() {
        VmRun.requireKvm();
        guest = VmRun.testGuest("fbuf.elf").toString();
    }

    /** A running bhyve whose COM1 lines are collected as they come. */
    private static final class Vm implements AutoCloseable {
        final Process process;
        final List<String> lines = new ArrayList<>();
        final StringBuilder stderr = new StringBuilder();

        Vm(String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(VmRun.HOME.resolve("bin/bhyve").toString()));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            Thread.ofPlatform().daemon(true).start(() -> collect(process.getInputStream(), null));
            Thread.ofPlatform().daemon(true).start(() -> collect(process.getErrorStream(), stderr));
        }

        private void collect(java.io.InputStream in, StringBuilder into) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (this) {
                        if (into != null) {
                            into.append(line).append('\n');
                        } else {
                            lines.add(line);
                        }
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }

        /** Waits for a line starting with {@code prefix} (120 s at most) and returns it. */
        synchronized String await(String prefix) throws InterruptedException {
            long end = System.currentTimeMillis() + 120_000;
            long deadAt = 0;
            while (System.currentTimeMillis() < end && (deadAt == 0 || System.currentTimeMillis() < deadAt + 1000)) {
                for (String l : lines) {
                    if (l.startsWith(prefix)) {
                        return l;
                    }
                }
                if (deadAt == 0 && !process.isAlive()) {
                    deadAt = System.currentTimeMillis(); // what it printed last may still be on its way
                }
                wait(200);
            }
            throw new AssertionError("no line '" + prefix + "' in\n" + String.join("\n", lines) + "\n--- stderr\n"
                    + stderr);
        }

        synchronized List<String> lines(String prefix) {
            return lines.stream().filter(l -> l.startsWith(prefix)).toList();
        }

        int exit() throws InterruptedException {
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "bhyve did not exit");
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Vm start(int port, String fbufOptions, String cmdline) throws IOException {
        return new Vm("-c", "1", "-m", "128M", "-s", "0,hostbridge",
                "-s", "29,fbuf,tcp=127.0.0.1:" + port + ",w=800,h=600" + fbufOptions, "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + guest, "-o", "boot.cmdline=" + cmdline,
                "vm");
    }

    private static RfbTestClient connect(int port) throws Exception {
        long end = System.currentTimeMillis() + 180_000;
        while (true) {
            try {
                return RfbTestClient.connect(new InetSocketAddress("127.0.0.1", port));
            } catch (IOException e) {
                if (System.currentTimeMillis() > end) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    @Tag("core")
    @Test
    void theGuestPaintsWhatViewersSeeAndReadsTheKeyTheyType() throws Exception {
        int port = freePort();
        try (Vm vm = start(port, "", "keys=2 timeout=60")) {
            assertEquals("JBT fbuf 00:1d.0", vm.await("JBT fbuf 00:").substring(0, 16));
            assertTrue(vm.await("JBT fbuf 00:").endsWith(" fbsize 2000000 mode 800x600x32"), vm.lines.toString());
            vm.await("JBT kbd ready");
            try (RfbTestClient viewer = connect(port)) {
                assertEquals(800, viewer.width);
                assertEquals(600, viewer.height);
                viewer.requestFullUpdate();
                viewer.readUpdate();
                assertEquals(0xFF0000, viewer.pixel(100, 100));
                assertEquals(0xFF0000, viewer.pixel(299, 299));
                assertEquals(0x0000FF, viewer.pixel(500, 300));
                assertEquals(0x0000FF, viewer.pixel(699, 499));
                assertEquals(0, viewer.pixel(300, 300));
                assertEquals(0, viewer.pixel(0, 0));
                snapshotShowsTheSquares(port);
                viewer.keyEvent(true, 'a');
                viewer.keyEvent(false, 'a');
                vm.await("JBT kbd done");
            }
            assertEquals(List.of("JBT key 1e", "JBT key 9e"), vm.lines("JBT key"));
            assertEquals("JBT kbd selftest 55 ctr 64 ack fa", vm.await("JBT kbd selftest"));
            assertEquals(1, vm.exit(), vm.lines.toString());
        }
    }

    private void snapshotShowsTheSquares(int port) throws Exception {
        Path out = dir.resolve("fbuf.jpg");
        Process p = new ProcessBuilder("vncsnapshot", "-quiet", "127.0.0.1::" + port, out.toString())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes()));
        BufferedImage image = ImageIO.read(out.toFile());
        assertEquals(800, image.getWidth());
        int red = image.getRGB(200, 200), blue = image.getRGB(600, 400);
        assertTrue((red >> 16 & 0xFF) > 200 && (red >> 8 & 0xFF) < 50 && (red & 0xFF) < 50, Integer.toHexString(red));
        assertTrue((blue >> 16 & 0xFF) < 50 && (blue >> 8 & 0xFF) < 50 && (blue & 0xFF) > 200, Integer.toHexString(blue));
    }

    @Test
    void withoutTranslationTheGuestReadsSet2AndWaitHoldsTheGuestForAViewer() throws Exception {
        int port = freePort();
        try (Vm vm = start(port, ",wait", "keys=5 xlate=0 timeout=60")) {
            Thread.sleep(2000);
            assertEquals(List.of(), vm.lines("JBT fbuf-guest"), "the guest waits for a viewer");
            try (RfbTestClient viewer = connect(port)) {
                vm.await("JBT kbd ready");
                viewer.keyEvent(true, 'a');
                viewer.keyEvent(false, 'a');
                viewer.extendedKeyEvent(true, 0xff52, 0xC8); // Up by its key number: E0 75
                vm.await("JBT kbd done");
            }
            assertEquals(List.of("JBT key 1c", "JBT key f0", "JBT key 1c", "JBT key e0", "JBT key 75"),
                    vm.lines("JBT key"));
            assertEquals(1, vm.exit());
        }
    }

    @Test
    void aSecondFbufIsRefusedWithBhyvesMessage() throws Exception {
        VmRun run = VmRun.bhyve("-s", "0,hostbridge", "-s", "28,fbuf,tcp=127.0.0.1:" + freePort(),
                "-s", "29,fbuf,tcp=127.0.0.1:" + freePort(), "-o", "boot.kernel=" + guest, "vm");
        assertEquals(4, run.exitCode, run::toString);
        assertTrue(run.stderr.contains("Only one frame buffer device is allowed."), run.stderr);
    }

    @Test
    void badOptionsAreOneLineErrors() {
        VmRun run = VmRun.bhyve("-s", "0,hostbridge", "-s", "29,fbuf,w=320,h=200", "-o", "boot.kernel=" + guest, "vm");
        assertEquals(4, run.exitCode, run::toString);
        assertTrue(run.stderr.contains("fbuf: minimum resolution is 640x480"), run.stderr);
        assertEquals(1, run.stderr.strip().lines().count(), run.stderr);
    }
}
