package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The hand-off message between bin/bhyve's client and a pre-started process. */
class HandoffTest {
    @Property
    void whatIsEncodedDecodesToTheSame(
            @ForAll @Size(max = 12) List<@CharRange(from = 1, to = 0x2FF) String> args,
            @ForAll @Size(max = 6) Map<@StringLength(min = 1, max = 8) @Chars({'A', 'B', '_'}) String,
                    @CharRange(from = 1, to = 0x7E) String> environment,
            @ForAll @CharRange(from = 1, to = 0x7E) String directoryName) {
        Handoff handoff = new Handoff("/" + directoryName, args, environment);
        assertEquals(handoff, Handoff.decode(handoff.encode()));
    }

    @Test
    void theWireFormIsNulTerminatedFields() {
        byte[] wire = new Handoff("/home/u", List.of("-c", "2", "vm1"), Map.of("A", "x=y")).encode();
        assertEquals("jbhyve-handoff 1\0/home/u\0" + "3\0-c\0" + "2\0vm1\0A=x=y\0", new String(wire, StandardCharsets.UTF_8));
    }

    @Test
    void malformedMessagesAreRefusedWithTheReason() {
        assertRefused("", "not a jbhyve hand-off message");
        assertRefused("hello\0/\0" + "0\0", "not a jbhyve hand-off message");
        assertRefused("jbhyve-handoff 1\0/\0" + "0", "does not end with NUL");
        assertRefused("jbhyve-handoff 1\0/\0two\0", "bad argument count: two");
        assertRefused("jbhyve-handoff 1\0/\0" + "3\0a\0b\0", "argument count 3 exceeds the message");
        assertRefused("jbhyve-handoff 1\0/\0-1\0", "argument count -1");
        assertRefused("jbhyve-handoff 1\0/\0" + "0\0NOEQUALS\0", "bad environment entry: NOEQUALS");
        assertRefused("jbhyve-handoff 1\0/\0" + "0\0=x\0", "bad environment entry: =x");
        assertRefused("jbhyve-handoff 1\0relative/dir\0" + "0\0", "not absolute");
    }

    @Test
    void theEnvironmentThatPlacesTheRegistryMustMatch() {
        Handoff handoff = new Handoff("/", List.of(), Map.of("JBHYVE_RUNDIR", "/r", "PATH", "/bin", "TERM", "xterm"));
        assertNull(handoff.mismatch(Map.of("JBHYVE_RUNDIR", "/r", "PATH", "/usr/bin")), "other variables may differ");
        assertTrue(handoff.mismatch(Map.of("JBHYVE_RUNDIR", "/other")).startsWith("JBHYVE_RUNDIR differs"));
        assertTrue(handoff.mismatch(Map.of("JBHYVE_RUNDIR", "/r", "JBHYVE_DEBUG", "1")).startsWith("JBHYVE_DEBUG"),
                "set on one side only");
    }

    private static void assertRefused(String wire, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Handoff.decode(wire.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
