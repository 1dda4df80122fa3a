package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** vCont: the leftmost action naming a thread wins; unnamed threads stay stopped. */
class ResumeRequestTest {
    private final Commands commands = new Commands(new FakeTarget(0x1000, 0x2000, 0x3000), null);

    @Test
    void actionsPerThread() {
        assertEquals(Map.of(0, true, 1, false, 2, false), ResumeRequest.vCont("vCont;s:1;c", commands));
        assertEquals(Map.of(1, true), ResumeRequest.vCont("vCont;s:2", commands));
        assertEquals(Map.of(0, false, 1, false, 2, false), ResumeRequest.vCont("vCont;c:-1", commands));
        assertEquals(Map.of(0, false, 2, false), ResumeRequest.vCont("vCont;t:2;C05", commands));
        assertEquals(Map.of(0, true, 1, true, 2, true), ResumeRequest.vCont("vCont;S0b;c:1", commands));
        assertEquals(Map.of(2, false), ResumeRequest.vCont("vCont;c:p1.3", commands));
    }

    @Test
    void malformedRequestsAreRefused() {
        for (String bad : new String[] {"vCont;", "vCont;x", "vCont;s:9", "vCont;s:zz", "vCont;C5", "vCont;cc",
            "vCont;c;;s", "vCont;t", "vCont;r1000,2000", "vCont;s:0000000000000000001"}) {
            assertNull(ResumeRequest.vCont(bad, commands), bad);
        }
    }
}
