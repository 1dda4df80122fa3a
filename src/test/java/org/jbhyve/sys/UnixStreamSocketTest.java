package org.jbhyve.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stream socket of our own against the JDK's client channel, and the shutdown contract. */
class UnixStreamSocketTest {
    @TempDir
    Path dir;

    private static String text(ByteBuffer buffer) {
        buffer.flip();
        return StandardCharsets.UTF_8.decode(buffer).toString();
    }

    @Test
    void bytesFlowBothWaysWithTheJdksClientChannel() throws Exception {
        Path path = dir.resolve("s.sock");
        try (UnixStreamSocket listener = UnixStreamSocket.listen(path.toString(), 4);
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                UnixStreamSocket server = listener.accept()) {
            client.write(ByteBuffer.wrap("hello\n".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer in = ByteBuffer.allocate(64);
            assertEquals(6, server.read(in));
            assertEquals("hello\n", text(in));
            byte[] big = "x".repeat(200_000).getBytes(StandardCharsets.UTF_8); // more than a socket buffer
            CompletableFuture<Integer> sent = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.write(ByteBuffer.wrap(big));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            ByteBuffer all = ByteBuffer.allocate(big.length);
            while (all.hasRemaining() && client.read(all) > 0) {
                // until everything arrived
            }
            assertEquals(big.length, sent.get(10, TimeUnit.SECONDS));
            assertEquals(big.length, all.position(), "write(2) returns only once all of it is sent");
            client.close();
            assertEquals(-1, server.read(ByteBuffer.allocate(8)), "end of stream once the peer closed");
        }
    }

    @Test
    void shutdownWakesAThreadBlockedInAcceptAndOneBlockedInRead() throws Exception {
        Path path = dir.resolve("w.sock");
        try (UnixStreamSocket listener = UnixStreamSocket.listen(path.toString(), 4);
                UnixStreamSocket client = UnixStreamSocket.connect(path.toString());
                UnixStreamSocket server = listener.accept()) {
            CompletableFuture<Integer> reading = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.read(ByteBuffer.allocate(8));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            CompletableFuture<Integer> accepting = CompletableFuture.supplyAsync(() -> {
                try (UnixStreamSocket unexpected = listener.accept()) {
                    return 0;
                } catch (SysException e) {
                    return e.errno();
                }
            });
            Thread.sleep(200); // both are blocked by now (a later shutdown is seen at once as well)
            server.shutdown();
            listener.shutdown();
            assertEquals(-1, reading.get(10, TimeUnit.SECONDS));
            assertEquals(Errno.EINVAL, accepting.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void connectingWhereNobodyListensIsRefusedAndAClosedSocketRefusesUse() throws Exception {
        Path path = dir.resolve("dead.sock");
        UnixStreamSocket.listen(path.toString(), 1).close(); // the file stays, nobody listens
        SysException refused = assertThrows(SysException.class, () -> UnixStreamSocket.connect(path.toString()));
        assertEquals(Errno.ECONNREFUSED, refused.errno());
        SysException missing = assertThrows(SysException.class,
                () -> UnixStreamSocket.connect(dir.resolve("none.sock").toString()));
        assertEquals(Errno.ENOENT, missing.errno());
        UnixStreamSocket closed = UnixStreamSocket.listen(dir.resolve("c.sock").toString(), 1);
        closed.close();
        closed.shutdown(); // nothing left to wake: no failure
        assertTrue(!closed.isOpen());
        assertThrows(ClosedChannelException.class, () -> closed.read(ByteBuffer.allocate(1)));
        assertThrows(ClosedChannelException.class, () -> closed.write(ByteBuffer.allocate(1)));
    }
}
