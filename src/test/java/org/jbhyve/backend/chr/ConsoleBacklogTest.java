package org.jbhyve.backend.chr;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleBacklogTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String contents(ConsoleBacklog q) {
        byte[] out = new byte[q.size()];
        assertEquals(out.length, q.peek(out, 0, out.length));
        return new String(out, StandardCharsets.US_ASCII);
    }

    @Test
    void keepsTheNewestBytesAndCountsTheOldestItDrops() {
        ConsoleBacklog q = new ConsoleBacklog(8);
        assertEquals(0, q.append(b("abcde"), 0, 5));
        assertEquals(2, q.append(b("fghij"), 0, 5));
        assertEquals("cdefghij", contents(q));
        assertEquals(8 + 4, q.append(b("0123456789ABCDEFGHIJ"), 8, 12), "only the last 8 of a long write stay");
        assertEquals("CDEFGHIJ", contents(q));
    }

    @Test
    void takenBackBytesGoInFrontAndWhatDoesNotFitIsTheOldest() {
        ConsoleBacklog q = new ConsoleBacklog(8);
        q.append(b("xyz"), 0, 3);
        q.consume(2); // head moves, so the front wraps around below
        assertEquals(0, q.prepend(b("uvw"), 0, 3));
        assertEquals("uvwz", contents(q));
        assertEquals(3, q.prepend(b("1234567"), 0, 7), "4 places left: the 3 oldest go");
        assertEquals("4567uvwz", contents(q));
    }

    @Test
    void peekLeavesBytesUntilConsumed() {
        ConsoleBacklog q = new ConsoleBacklog(4);
        q.append(b("abcd"), 0, 4);
        byte[] two = new byte[2];
        assertEquals(2, q.peek(two, 0, 2));
        assertEquals(4, q.size());
        q.consume(2);
        assertEquals("cd", contents(q));
        assertThrows(IllegalArgumentException.class, () -> q.consume(3));
    }
}
