package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** gdb.port, gdb.address and gdb.wait become the debug server's settings; bad ones are one line. */
class MachineSpecGdbTest {
    private static ConfigTree tree(String... settings) {
        ConfigTree t = new ConfigTree();
        t.set("name", "vm");
        for (String s : settings) {
            int eq = s.indexOf('=');
            t.set(s.substring(0, eq), s.substring(eq + 1));
        }
        return t;
    }

    @Test
    void noPortNoServer() {
        assertNull(MachineSpec.from(tree("gdb.wait=true")).gdb());
    }

    @Test
    void settingsAndTheirDefaults() {
        MachineSpec.Gdb g = MachineSpec.from(tree("gdb.port=1234")).gdb();
        assertEquals(new MachineSpec.Gdb(null, 1234, false), g);
        assertEquals("127.0.0.1:1234", g.where());
        g = MachineSpec.from(tree("gdb.port=65535", "gdb.address=::1", "gdb.wait=true")).gdb();
        assertEquals(new MachineSpec.Gdb("::1", 65535, true), g);
        assertEquals("[::1]:65535", g.where());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "-1", "12ab", "", "0x10", "999999"})
    void badPortsAreRefused(String port) {
        ConfigException e = assertThrows(ConfigException.class, () -> MachineSpec.from(tree("gdb.port=" + port)));
        assertEquals("gdb.port: '" + port + "' is not a TCP port (1-65535)", e.getMessage());
    }

    @Test
    void aBlankAddressIsRefused() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> MachineSpec.from(tree("gdb.port=1", "gdb.address= ")));
        assertEquals("gdb.address: ' ' is not an address", e.getMessage());
    }
}
