package org.jbhyve.it;

import org.jbhyve.testing.HostCommand;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.net.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code -s N,virtio-net,...} end to end (SPEC P4, N1): the transitional device on the guest's
 * PCI bus, the one-line error for a missing tap, and real traffic: the test guest net.elf
 * answers ARP and ICMP echo while the host pings it through a tap in a network namespace of
 * its own (created per test, always deleted), over virtio-net (legacy and modern interfaces,
 * with and without mergeable buffers) and e1000. The guest must report bhyve's default MAC.
 */
class VirtioNetIT {
    private static final String VM = "vnet" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
    private static String probe;
    private static String netGuest;
    private String namespace;
    private String hostTap;

    @BeforeAll
    static void setUp() {
        VmRun.requireKvm();
        probe = VmRun.testGuest("probe.elf").toString();
        netGuest = VmRun.testGuest("net.elf").toString();
    }

    @AfterEach
    void tearDown() {
        if (namespace != null) {
            HostCommand.run(false, "ip", "netns", "del", namespace); // takes the tap with it
        }
        if (hostTap != null) {
            HostCommand.run(false, "ip", "link", "del", hostTap);
        }
    }

    private static String unique(String prefix) {
        return prefix + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    }

    @Test
    void virtioNetOnATapIsSeenByTheGuest() {
        hostTap = unique("jbv");
        HostCommand.run(true, "ip", "tuntap", "add", hostTap, "mode", "tap");
        VmRun r = VmRun.bhyve("-m", "64M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-l", "pc-testdev",
                "-s", "2,virtio-net," + hostTap + ",mtu=1400", "-o", "boot.kernel=" + probe,
                "-o", "boot.cmdline=action=exit:0", VM);
        assertEquals(1, r.exitCode, r::toString);
        assertTrue(r.probeLines("pci").contains("00:02.0 1af4:1000 class 020000 hdr 00"), r::toString);
        assertEquals("", r.stderr);
    }

    @Test
    void missingTapIsOneClearLine() {
        String name = unique("jbn");
        VmRun r = VmRun.bhyve("-m", "64M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-s", "2,virtio-net," + name, "-o", "boot.kernel=" + probe, VM);
        assertEquals(4, r.exitCode, r::toString);
        assertEquals("bhyve: virtio-net: " + name + ": no such tap interface: create it with 'ip tuntap add " + name
                + " mode tap' (and bring it up with 'ip link set " + name + " up')\n", r.stderr);
    }

    @Test
    void legacyVirtioNetAnswersPings() throws Exception {
        pingGuest("virtio-net", "");
    }

    @Test
    void modernVirtioNetWithMergeableBuffersAnswersPings() throws Exception {
        pingGuest("virtio-net", " iface=modern mrg=1");
    }

    @Tag("core")
    @Test
    void modernVirtioNetAnswersPings() throws Exception {
        pingGuest("virtio-net", " iface=modern");
    }

    @Test
    void legacyVirtioNetWithMergeableBuffersAnswersPings() throws Exception {
        pingGuest("virtio-net", " mrg=1");
    }

    @Test
    void e1000AnswersPings() throws Exception {
        pingGuest("e1000", "");
    }

    /**
     * Boots net.elf on {@code nic} in a fresh namespace, waits for "net ready", pings it five
     * times from the namespace (every reply must come back) and checks the guest's report.
     */
    private void pingGuest(String nic, String extra) throws Exception {
        namespace = unique("jbn-");
        String tap = "tap0";
        HostCommand.run(true, "ip", "netns", "add", namespace);
        ns(true, "ip", "link", "set", "lo", "up");
        ns(true, "ip", "tuntap", "add", tap, "mode", "tap");
        ns(true, "ip", "addr", "add", "10.0.2.2/24", "dev", tap);
        ns(true, "ip", "link", "set", tap, "up");
        Path out = Files.createTempFile("vnet", ".out");
        Path err = Files.createTempFile("vnet", ".err");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
                VmRun.HOME.resolve("bin/bhyve").toString(), "-m", "128M", "-s", "0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-s", "2," + nic + "," + tap,
                "-o", "boot.kernel=" + netGuest,
                "-o", "boot.cmdline=ip=10.0.2.15 count=5 timeout=90 nic=" + nic + extra, VM));
        Process vm = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!Files.readString(out).contains("JBT net ready") && vm.isAlive() && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            assertTrue(Files.readString(out).contains("JBT net ready"), () -> report(out, err));
            String ping = ns(false, "ping", "-c", "5", "-W", "2", "10.0.2.15");
            assertTrue(ping.contains("5 packets transmitted, 5 received"), () -> ping + "\n" + report(out, err));
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), () -> report(out, err));
            assertEquals(1, vm.exitValue(), () -> report(out, err));
            String stdout = Files.readString(out);
            String mac = MacAddress.generate(2, 0, VM).toString();
            assertTrue(stdout.contains("JBT net 00:02.0 " + nic + " mac " + mac + " link up"), () -> report(out, err));
            assertTrue(stdout.contains("JBT net done 5"), () -> report(out, err));
        } finally {
            if (vm.isAlive()) {
                vm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String report(Path out, Path err) {
        try {
            return "--- stdout\n" + Files.readString(out) + "--- stderr\n" + Files.readString(err);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private String ns(boolean check, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        cmd.addAll(List.of(args));
        return HostCommand.run(check, cmd.toArray(String[]::new));
    }

}
