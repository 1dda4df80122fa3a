package org.jbhyve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigTreeTest {

    private static ConfigTree tree(String... kv) {
        ConfigTree t = new ConfigTree();
        for (int i = 0; i < kv.length; i += 2) {
            t.set(kv[i], kv[i + 1]);
        }
        return t;
    }

    @Test
    void setAndGetDottedKeys() {
        ConfigTree t = tree("pci.0.2.0.device", "virtio-blk", "pci.0.2.0.path", "/disk.img", "name", "vm1");
        assertEquals(Optional.of("virtio-blk"), t.get("pci.0.2.0.device"));
        assertEquals(Optional.of("vm1"), t.get("name"));
        assertEquals(Optional.empty(), t.get("pci.0.2.0.ro"));
        assertEquals(Optional.empty(), t.get("nothing.here.at.all"));
        assertEquals("dflt", t.getString("pci.0.3.0.device", "dflt"));
    }

    @Test
    void nodesAreNotValues() {
        ConfigTree t = tree("pci.0.2.0.device", "virtio-blk");
        assertTrue(t.isNode("pci.0.2.0"));
        assertTrue(t.has("pci.0.2.0"));
        assertTrue(t.has("pci.0.2.0.device"));
        assertFalse(t.has("pci.0.2.1"));
        assertEquals(Optional.empty(), t.get("pci.0.2.0"), "a node has no value");
    }

    @Test
    void aKeyCannotBeBothNodeAndValue() {
        ConfigTree t = tree("pci.0.2.0.device", "virtio-blk");
        ConfigException asValue = assertThrows(ConfigException.class, () -> t.set("pci.0.2.0", "x"));
        assertTrue(asValue.getMessage().contains("pci.0.2.0"), asValue.getMessage());
        ConfigException asNode = assertThrows(ConfigException.class, () -> t.set("pci.0.2.0.device.x", "y"));
        assertTrue(asNode.getMessage().contains("child of existing variable pci.0.2.0.device"),
                asNode.getMessage());
        assertEquals(List.of("pci.0.2.0.device=virtio-blk"), t.dump(), "failed sets change nothing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "a.", ".a", "a..b", "a b", "a=b", "tab\tkey"})
    void malformedKeysAreRejected(String key) {
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigTree().set(key, "v"));
        assertTrue(e.getMessage().startsWith("invalid configuration key"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void valuesWithLineBreaksAreRejected() {
        assertThrows(ConfigException.class, () -> new ConfigTree().set("a", "x\ny"));
    }

    @Test
    void dumpIsDepthFirstInInsertionOrderAndReplacingMovesToTheEnd() {
        ConfigTree t = tree("name", "vm", "pci.0.1.0.device", "lpc", "memory.size", "1G",
                "pci.0.0.0.device", "hostbridge", "pci.0.1.0.x", "1");
        assertEquals(List.of("name=vm", "pci.0.1.0.device=lpc", "pci.0.1.0.x=1", "pci.0.0.0.device=hostbridge",
                "memory.size=1G"), t.dump());
        t.set("name", "vm2");
        assertEquals("name=vm2", t.dump().getLast(), "a replaced value moves to the end, as in bhyve's nvlist");
        assertEquals(List.of("pci", "memory", "name"), t.children(""));
        assertEquals(List.of("1", "0"), t.children("pci.0"));
        assertEquals(List.of("device", "x"), t.children("pci.0.1.0"));
        assertEquals(List.of(), t.children("pci.0.1.0.device"), "a value has no children");
        assertEquals(List.of(), t.children("absent"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "TRUE", "True", "on", "ON", "yes", "Yes", "1"})
    void trueSpellings(String v) {
        assertTrue(tree("k", v).getBoolean("k", false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "FALSE", "off", "Off", "no", "NO", "0"})
    void falseSpellings(String v) {
        assertFalse(tree("k", v).getBoolean("k", true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "y", "n", "enable", "truee", " true", "01"})
    void otherBooleansAreErrorsNamingTheKey(String v) {
        ConfigException e = assertThrows(ConfigException.class, () -> tree("x86.x2apic", v)
                .getBoolean("x86.x2apic", false));
        assertEquals("invalid value '" + v + "' for boolean variable x86.x2apic", e.getMessage());
    }

    @Test
    void booleanDefaultsApplyOnlyWhenUnset() {
        ConfigTree t = new ConfigTree();
        assertTrue(t.getBoolean("acpi_tables", true));
        assertFalse(t.getBoolean("acpi_tables", false));
        t.setBoolean("acpi_tables", true);
        assertEquals(Optional.of("true"), t.get("acpi_tables"));
    }

    @Test
    void integersFollowStrtolBaseZero() {
        ConfigTree t = tree("dec", "42", "hex", "0x1F", "oct", "010", "neg", "-3", "big", "8589934592");
        assertEquals(42, t.getInt("dec", 0));
        assertEquals(31, t.getInt("hex", 0));
        assertEquals(8, t.getInt("oct", 0));
        assertEquals(-3, t.getInt("neg", 0));
        assertEquals(8589934592L, t.getLong("big", 0));
        assertEquals(7, t.getInt("unset", 7));
        ConfigException tooBig = assertThrows(ConfigException.class, () -> t.getInt("big", 0));
        assertEquals("Invalid value for big: '8589934592'", tooBig.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "x", "4x", "0x", "08", " 4", "4 ", "--4", "99999999999999999999"})
    void malformedIntegersAreErrors(String v) {
        ConfigException e = assertThrows(ConfigException.class, () -> tree("n", v).getLong("n", 0));
        assertEquals("Invalid value for n: '" + v + "'", e.getMessage());
    }

    @Test
    void referencesExpandWhenRead() {
        ConfigTree t = tree("dir", "/vm/%(name)", "name", "vm1",
                "pci.0.2.0.path", "%(dir)/disk.img", "pct", "100%%", "lone", "50%off");
        assertEquals(Optional.of("/vm/vm1/disk.img"), t.get("pci.0.2.0.path"), "nested references");
        assertEquals(Optional.of("%(dir)/disk.img"), t.getRaw("pci.0.2.0.path"));
        assertEquals("pci.0.2.0.path=%(dir)/disk.img", t.dump().get(2), "dump shows raw values");
        assertEquals(Optional.of("100%"), t.get("pct"), "%% is one %");
        assertEquals(Optional.of("50%off"), t.get("lone"), "a lone % stays, as in bhyve");
        t.set("name", "vm2");
        assertEquals(Optional.of("/vm/vm2/disk.img"), t.get("pci.0.2.0.path"), "expanded at read time");
    }

    @Test
    void backslashEscapesOnlyInValuesWithAPercent() {
        ConfigTree t = tree("a", "x", "esc", "\\%(a) is %(a)", "plain", "C:\\dir");
        assertEquals(Optional.of("%(a) is x"), t.get("esc"));
        assertEquals(Optional.of("C:\\dir"), t.get("plain"), "no % in the value: untouched, like bhyve");
    }

    @Test
    void badReferencesAreErrors() {
        ConfigTree t = tree("unknown", "%(nope)", "open", "%(name", "empty", "%()", "loop1", "%(loop2)",
                "loop2", "%(loop1)", "trail", "%(unknown)\\", "node", "%(pci)", "pci.0.0.0.device", "x");
        assertEquals("reference to unknown configuration variable nope in \"%(nope)\"",
                assertThrows(ConfigException.class, () -> t.get("unknown")).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> t.get("open")).getMessage()
                .startsWith("unterminated reference"));
        assertTrue(assertThrows(ConfigException.class, () -> t.get("empty")).getMessage()
                .startsWith("empty reference"));
        assertTrue(assertThrows(ConfigException.class, () -> t.get("loop1")).getMessage()
                .startsWith("too many nested references"));
        assertTrue(assertThrows(ConfigException.class, () -> t.get("node")).getMessage()
                .contains("unknown configuration variable pci"), "a node is not a value");
    }

    @Test
    void copyIsDeepAndIndependent() {
        ConfigTree t = tree("pci.0.0.0.device", "hostbridge");
        ConfigTree c = t.copy();
        c.set("pci.0.0.0.device", "amd");
        c.set("name", "x");
        assertEquals(Optional.of("hostbridge"), t.get("pci.0.0.0.device"));
        assertEquals(List.of("pci.0.0.0.device=hostbridge"), t.dump());
        assertEquals(2, c.dump().size());
    }

    @Test
    void exceptionMessagesAreAlwaysOneLine() {
        assertEquals("a b c", new ConfigException("a\nb\r\nc\n").getMessage().replace("  ", " "));
        assertFalse(new ConfigException("x\ty").getMessage().contains("\t"));
        assertEquals("invalid configuration", new ConfigException(null).getMessage());
    }
}
