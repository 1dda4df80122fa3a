package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.jbhyve.kvm.Registers;

/**
 * Random packets that look almost like requests: each gets exactly one reply, none fails inside
 * the server (which would answer E05), the guest stays stopped and the session goes on. Requests that only read leave
 * guest RAM and registers exactly as they were.
 */
class GdbSessionFuzzTest {
    private static final List<String> READERS = List.of("m", "p", "g", "H", "T", "q", "qXfer:features:read:",
            "qThreadExtraInfo,", "?", "z", "Q", "vCont?", "vMust", "");
    private static final List<String> WRITERS = List.of("M", "X", "P", "G", "Z");

    private static Arbitrary<String> tails() {
        return Arbitraries.strings().withChars("0123456789abcdefABCDEFxyzp,:;=-.#$}*\u0003\u00ff \u0000")
                .ofMaxLength(40);
    }

    @Provide
    Arbitrary<List<String>> reads() {
        return Combinators.combine(Arbitraries.of(READERS), tails()).as((verb, tail) -> verb + tail)
                .filter(GdbSessionFuzzTest::staysStopped).list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<List<String>> writes() {
        return Combinators.combine(Arbitraries.of(WRITERS), tails()).as((verb, tail) -> verb + tail).list()
                .ofMaxSize(8);
    }

    /** Not a request that resumes, detaches or kills (c, C, s, S, D, k: their answer is not immediate). */
    private static boolean staysStopped(String packet) {
        return packet.isEmpty() || "cCsSDk".indexOf(packet.charAt(0)) < 0;
    }

    private static void exercise(List<String> packets, boolean readOnly) throws IOException {
        FakeTarget target = new FakeTarget(0x10000, 0x11000);
        target.load(0x10000, 0x90, 0x90, 0xEB, 0xFC);
        GdbServer server = GdbServer.listen("127.0.0.1", 0);
        server.start(target);
        try (RspClient gdb = new RspClient(server.localAddress().getPort())) {
            byte[] ram = target.ram.clone();
            long rip = target.cpus.get(0).state.regs.get(Registers.RIP);
            for (String p : packets) {
                String escaped = p.replace("}", "}]").replace("#", "}\u0003").replace("$", "}\u0004")
                        .replace("*", "}\n");
                String reply = gdb.request(escaped);
                assertTrue(reply.length() <= PacketReader.MAX_PAYLOAD, "one packet's worth");
                assertNotEquals(Commands.TARGET, reply, "no request failed inside the server: " + p);
            }
            assertEquals("QC1", gdb.request("Hg1").equals("OK") ? gdb.request("qC") : "", "the session is alive");
            assertTrue(target.allParked(), "the guest never ran");
            if (readOnly) {
                assertArrayEquals(ram, target.ram, "guest RAM unchanged");
                assertEquals(rip, target.cpus.get(0).state.regs.get(Registers.RIP));
            }
        } finally {
            server.close();
            target.end(0);
        }
    }

    @Property(tries = 60)
    void readingRequestsChangeNothing(@ForAll("reads") List<String> packets) throws IOException {
        exercise(packets, true);
    }

    @Property(tries = 60)
    void writingRequestsNeverBreakTheServer(@ForAll("writes") List<String> packets) throws IOException {
        exercise(packets, false);
    }
}
