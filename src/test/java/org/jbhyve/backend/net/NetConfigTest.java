package org.jbhyve.backend.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NetConfigTest {
    private static NetConfig open(Map<String, String> node) {
        return NetConfig.open("e1000", k -> Optional.ofNullable(node.get(k)), 2, 0, "vm1");
    }

    @Test
    void noBackendIsAnUnpluggedNicWithBhyvesMac() {
        NetConfig c = open(Map.of());
        assertEquals("none", c.backend().name());
        assertEquals("00:a0:98:27:a7:18", c.mac().toString());
        assertTrue(c.backend().send());
        assertEquals(-1, c.backend().receive());
    }

    @Test
    void macAndMtuOptions() {
        NetConfig c = open(Map.of("mac", "00:a0:98:11:22:33", "mtu", "9000"));
        assertEquals("00:a0:98:11:22:33", c.mac().toString());
        assertEquals(9000, c.mtu().getAsInt());
        assertEquals(9000, c.backend().mtu().getAsInt());
    }

    @Test
    void mtuParsesLikeStrtoulBaseZero() {
        assertEquals(1500, NetConfig.parseMtu("x", "1500"));
        assertEquals(0x2328, NetConfig.parseMtu("x", "0x2328"));
        assertEquals(01000, NetConfig.parseMtu("x", "01000"));
        assertThrows(NetBackendException.class, () -> NetConfig.parseMtu("x", "-1500"));
        assertThrows(NetBackendException.class, () -> NetConfig.parseMtu("x", "15x"));
        assertThrows(NetBackendException.class, () -> NetConfig.parseMtu("x", "45"));
        assertThrows(NetBackendException.class, () -> NetConfig.parseMtu("x", "65536"));
    }

    @Test
    void badMacIsOneLineNamingTheDevice() {
        NetBackendException e = assertThrows(NetBackendException.class, () -> open(Map.of("mac", "01:02:03:04:05:06")));
        assertTrue(e.getMessage().startsWith("e1000: invalid MAC address '01:02:03:04:05:06'"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void netgraphAndNetmapAreFreeBsdOnly() {
        NetBackendException e = assertThrows(NetBackendException.class,
                () -> open(Map.of("backend", "netgraph", "path", "vmbridge:", "peerhook", "link2")));
        assertTrue(e.getMessage().contains("netgraph is a FreeBSD-only network backend"), e.getMessage());
        assertTrue(e.getMessage().contains("ip tuntap add"), e.getMessage());
        e = assertThrows(NetBackendException.class, () -> open(Map.of("backend", "netmap:em0")));
        assertTrue(e.getMessage().contains("not supported on Linux"), e.getMessage());
    }

    @Test
    void badInterfaceNames() {
        for (String bad : new String[] {"a/b", "with space", "0123456789abcdef"}) {
            NetBackendException e = assertThrows(NetBackendException.class, () -> open(Map.of("backend", bad)));
            assertTrue(e.getMessage().contains("not a valid network interface name"), e.getMessage());
        }
    }
}
