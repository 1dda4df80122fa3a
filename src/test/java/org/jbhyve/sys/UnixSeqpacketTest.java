package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.control.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Messages with descriptors over a socket pair made here: boundaries, descriptors, refusals. */
class UnixSeqpacketTest {
    @TempDir
    Path dir;

    @Test
    void aMessageArrivesWholeWithDescriptorsThatReachTheSameFiles() throws Exception {
        Path file = dir.resolve("shared.txt");
        String socket = dir.resolve("s.sock").toString();
        try (UnixSeqpacket listener = UnixSeqpacket.listen(socket, 1);
                UnixSeqpacket client = UnixSeqpacket.connect(socket);
                UnixSeqpacket server = listener.accept();
                Fd sent = Posix.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, 0600);
                Fd nul = Posix.open("/dev/null", Posix.O_RDWR | Posix.O_CLOEXEC, 0)) {
            assertEquals(RunDirectory.uid(), server.peerUid());
            client.send("first".getBytes(StandardCharsets.US_ASCII), sent.number(), nul.number());
            client.send("second".getBytes(StandardCharsets.US_ASCII));
            UnixSeqpacket.Message first = server.receive(64);
            UnixSeqpacket.Message second = server.receive(64);
            assertEquals("first", new String(first.data(), StandardCharsets.US_ASCII));
            assertEquals("second", new String(second.data(), StandardCharsets.US_ASCII), "boundaries kept");
            assertEquals(2, first.fds().length);
            assertEquals(0, second.fds().length);
            try (Arena arena = Arena.ofConfined(); Fd received = first.fds()[0]; Fd other = first.fds()[1]) {
                MemorySegment text = arena.allocateFrom(JAVA_BYTE, "via the copy".getBytes(StandardCharsets.US_ASCII));
                Posix.write(received, text, text.byteSize());
            }
            assertEquals("via the copy", Files.readString(file), "the received descriptor is the sender's file");
        }
    }

    @Test
    void aLongerMessageThanAskedForIsRefusedAndAClosedPeerReadsEmpty() {
        String socket = dir.resolve("s.sock").toString();
        try (UnixSeqpacket listener = UnixSeqpacket.listen(socket, 1);
                UnixSeqpacket server = acceptAfter(listener, socket, "0123456789")) {
            SysException e = assertThrows(SysException.class, () -> server.receive(4));
            assertEquals(Errno.EMSGSIZE, e.errno());
            UnixSeqpacket.Message end = server.receive(4);
            assertArrayEquals(new byte[0], end.data(), "the client closed");
        }
    }

    @Test
    void nothingArrivingWithinTheTimeoutIsEagain() {
        String socket = dir.resolve("s.sock").toString();
        try (UnixSeqpacket listener = UnixSeqpacket.listen(socket, 1);
                UnixSeqpacket client = UnixSeqpacket.connect(socket);
                UnixSeqpacket server = listener.accept()) {
            server.receiveTimeout(50);
            SysException e = assertThrows(SysException.class, () -> server.receive(16));
            assertEquals(Errno.EAGAIN, e.errno());
        }
    }

    @Test
    void pathsTheKernelCannotHoldAndMissingListenersAreErrors() {
        String tooLong = dir.resolve("x".repeat(120)).toString();
        assertEquals(Errno.ENAMETOOLONG, assertThrows(SysException.class, () -> UnixSeqpacket.listen(tooLong, 1)).errno());
        String nobody = dir.resolve("nobody.sock").toString();
        assertEquals(Errno.ENOENT, assertThrows(SysException.class, () -> UnixSeqpacket.connect(nobody)).errno());
    }

    /** Connects, sends {@code text}, closes the client; returns the accepted end. */
    private static UnixSeqpacket acceptAfter(UnixSeqpacket listener, String socket, String text) {
        try (UnixSeqpacket client = UnixSeqpacket.connect(socket)) {
            UnixSeqpacket server = listener.accept();
            client.send(text.getBytes(StandardCharsets.US_ASCII));
            return server;
        }
    }
}
