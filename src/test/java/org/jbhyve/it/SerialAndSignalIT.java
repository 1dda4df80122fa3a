package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** COM1 with stdio and tcp= backends, and stopping a running VM with SIGTERM. */
class SerialAndSignalIT {
    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    @Tag("core")
    @Test
    void stdinReachesTheGuestThroughCom1() throws Exception {
        // Typed once the guest has set up its UART: like a real 16550, a FIFO reset drops what came before.
        Process vm = new ProcessBuilder(VmRun.HOME.resolve("bin/bhyve").toString(), "-s", "0,hostbridge",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "-o", "boot.cmdline=action=echo", "vm").start();
        try {
            assertTrue(VmRun.readUntil(vm.getInputStream(), "echo-ready").contains("JBT hello"));
            vm.getOutputStream().write("hello q".getBytes(StandardCharsets.US_ASCII));
            vm.getOutputStream().flush();
            assertTrue(VmRun.readUntil(vm.getInputStream(), "hello q").endsWith("hello q"));
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "VM exits after 'q'");
            assertEquals(1, vm.exitValue());
        } finally {
            vm.destroyForcibly();
        }
    }

    @Test
    void tcpBackendServesOneClient() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process vm = new ProcessBuilder(VmRun.HOME.resolve("bin/bhyve").toString(), "-s", "0,hostbridge",
                "-l", "com1,tcp=127.0.0.1:" + port, "-l", "pc-testdev",
                "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"), "-o", "boot.cmdline=action=echo", "vm")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).start();
        try (Socket client = connectWithRetry(port)) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            // Output before the client connected is dropped (bhyve's tcp= behaviour), so the
            // banner may be gone: wait a little for the guest to reach its echo loop.
            client.setSoTimeout(3000);
            try {
                VmRun.readUntil(in, "echo-ready");
            } catch (java.net.SocketTimeoutException alreadyPrinted) {
                // the guest printed it before we connected
            }
            client.setSoTimeout(60_000);
            out.write("xyz q".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(VmRun.readUntil(in, "xyz q").endsWith("xyz q"));
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "VM exits after 'q'");
            assertEquals(1, vm.exitValue());
        } finally {
            vm.destroyForcibly();
        }
    }

    @Test
    void sigtermStopsARunningGuestCleanly() throws Exception {
        Process vm = new ProcessBuilder(VmRun.HOME.resolve("bin/bhyve").toString(), "-s", "0,hostbridge",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                "-o", "boot.cmdline=action=spin", "vm")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            String seen = VmRun.readUntil(vm.getInputStream(), "JBT spinning");
            assertTrue(seen.contains("JBT spinning"));
            new ProcessBuilder("kill", "-TERM", Long.toString(vm.pid())).start().waitFor();
            assertTrue(vm.waitFor(30, TimeUnit.SECONDS), "bhyve stops after SIGTERM");
            assertEquals(4, vm.exitValue());
            List<String> err = new String(vm.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            assertEquals(List.of("bhyve: stopped by SIGTERM"), err);
        } finally {
            vm.destroyForcibly();
        }
    }

    private static Socket connectWithRetry(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                s.setSoTimeout(60_000);
                return s;
            } catch (java.io.IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

}
