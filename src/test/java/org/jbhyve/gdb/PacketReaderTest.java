package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.jbhyve.gdb.PacketReader.Frame;
import org.junit.jupiter.api.Test;

/** Framing: checksums, escapes, interrupts, noise, restarts, overlong and truncated packets. */
class PacketReaderTest {
    private static List<Frame> frames(byte[] wire) throws IOException {
        PacketReader r = new PacketReader(new ByteArrayInputStream(wire));
        List<Frame> out = new ArrayList<>();
        Frame f;
        do {
            f = r.next();
            out.add(f);
        } while (!(f instanceof Frame.Eof));
        return out;
    }

    private static List<Frame> frames(String wire) throws IOException {
        return frames(wire.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String sum(String payload) {
        return String.format("%02x", PacketWriter.checksum(payload.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void packetsAcksInterruptsAndNoise() throws IOException {
        List<Frame> f = frames("+$g#67\r\n-\u0003$qC#b4");
        assertInstanceOf(Frame.Ack.class, f.get(0));
        assertEquals("g", ((Frame.Packet) f.get(1)).text());
        assertInstanceOf(Frame.Nak.class, f.get(2));
        assertInstanceOf(Frame.Interrupt.class, f.get(3));
        assertEquals("qC", ((Frame.Packet) f.get(4)).text());
        assertInstanceOf(Frame.Eof.class, f.get(5));
    }

    @Test
    void badChecksumsAndTruncatedPacketsAreNotPackets() throws IOException {
        assertInstanceOf(Frame.Corrupt.class, frames("$g#66").get(0));
        assertInstanceOf(Frame.Corrupt.class, frames("$g#zz").get(0));
        assertInstanceOf(Frame.Corrupt.class, frames("$g#6").get(0));
        assertInstanceOf(Frame.Eof.class, frames("$m0,4").get(0));
        assertInstanceOf(Frame.Corrupt.class, frames("$ab}#" + sum("ab}")).get(0), "a dangling escape");
    }

    @Test
    void escapesAreUndoneAndTheChecksumCoversTheEscapedBytes() throws IOException {
        String wire = "X0,4:}" + (char) ('#' ^ 0x20) + "}" + (char) ('$' ^ 0x20) + "}" + (char) ('}' ^ 0x20) + "}"
                + (char) ('*' ^ 0x20);
        List<Frame> f = frames("$" + wire + "#" + sum(wire));
        assertEquals("X0,4:#$}*", ((Frame.Packet) f.get(0)).text());
    }

    @Test
    void aDollarInsideAPacketStartsItOver() throws IOException {
        assertEquals("qC", ((Frame.Packet) frames("$m12$qC#b4").get(0)).text());
    }

    @Test
    void anOverlongPacketIsReadToItsEndButNotKept() throws IOException {
        String big = "M0,1:" + "a".repeat(PacketReader.MAX_PAYLOAD * 3);
        List<Frame> f = frames("$" + big + "#" + sum(big) + "$g#67");
        assertInstanceOf(Frame.Overlong.class, f.get(0));
        assertEquals("g", ((Frame.Packet) f.get(1)).text(), "the stream stays in step");
        String exact = "a".repeat(PacketReader.MAX_PAYLOAD);
        assertEquals(exact, ((Frame.Packet) frames("$" + exact + "#" + sum(exact)).get(0)).text());
    }

    @Test
    void writerAndReaderAgree() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PacketWriter w = new PacketWriter(out);
        byte[] binary = {'$', '#', '}', '*', 0, 3, (byte) 0xFF};
        w.send(PacketWriter.escape(binary, 0, binary.length));
        w.send("OK");
        w.resend();
        List<Frame> f = frames(out.toByteArray());
        assertArrayEquals(binary, ((Frame.Packet) f.get(0)).payload());
        assertEquals("OK", ((Frame.Packet) f.get(1)).text());
        assertEquals("OK", ((Frame.Packet) f.get(2)).text());
    }

    @Property(tries = 500)
    void randomBytesNeverBreakTheReader(@ForAll @Size(max = 300) byte[] noise) throws IOException {
        InputStream in = new ByteArrayInputStream(noise);
        PacketReader r = new PacketReader(in);
        int n = 0;
        while (!(r.next() instanceof Frame.Eof)) {
            n++;
            if (n > noise.length) {
                throw new AssertionError("more frames than bytes");
            }
        }
    }

    @Property(tries = 300)
    void everyPayloadSurvivesTheWire(@ForAll @Size(max = 600) byte[] payload) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PacketWriter(out).send(PacketWriter.escape(payload, 0, payload.length));
        assertArrayEquals(payload, ((Frame.Packet) frames(out.toByteArray()).get(0)).payload());
    }
}
