package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NvmeOptionsTest {
    private static NvmeOptions parse(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return NvmeOptions.parse(k -> Optional.ofNullable(m.get(k)), "vm", 0, 5, 1);
    }

    private static String error(String... kv) {
        return assertThrows(IllegalArgumentException.class, () -> parse(kv)).getMessage();
    }

    @Test
    void defaultsAreBhyves() {
        NvmeOptions o = parse("path", "/tmp/x.img");
        assertEquals("/tmp/x.img", o.path());
        assertEquals(16, o.maxQueues());
        assertEquals(2048, o.queueEntries());
        assertEquals(8, o.ioSlots());
        assertEquals(0, o.sectorSize(), "from the backend");
        assertEquals("NVME-5-1", o.serial());
        assertEquals(NvmeOptions.Dsm.AUTO, o.dsm());
        assertEquals("nqn.2013-12.org.freebsd:bhyve-vm-0-5-1", o.subsystemNqn());
    }

    @Test
    void everyOption() {
        NvmeOptions o = parse("ram", "64", "maxq", "4", "qsz", "256", "ioslots", "16", "sectsz", "512",
                "ser", "S1", "eui64", "0x589cfc2000000042", "dsm", "disable");
        assertNull(o.path());
        assertEquals(64, o.ramMiB());
        assertEquals(4, o.maxQueues());
        assertEquals(256, o.queueEntries());
        assertEquals(16, o.ioSlots());
        assertEquals(512, o.sectorSize());
        assertEquals("S1", o.serial());
        assertEquals(0x589cfc2000000042L, o.namespaceEui64());
        assertEquals(NvmeOptions.Dsm.DISABLE, o.dsm());
        assertEquals(-1L, parse("ram", "1", "eui64", "18446744073709551615").eui64(), "the whole 64 bits");
        assertEquals(8, parse("ram", "1", "eui64", "010").eui64(), "C octal");
    }

    @Test
    void badValuesAreOneLineErrors() {
        assertEquals("nvme needs a disk image path or ram=MiB", error());
        assertEquals("invalid maxq option: 0", error("ram", "1", "maxq", "0"));
        assertEquals("invalid maxq option: 17", error("ram", "1", "maxq", "17"));
        assertEquals("invalid qsz option: 1", error("ram", "1", "qsz", "1"));
        assertEquals("invalid qsz option: 65537", error("ram", "1", "qsz", "65537"));
        assertEquals("invalid ioslots option: 0", error("ram", "1", "ioslots", "0"));
        assertEquals("invalid sectsz option: 1024 (512, 4096 or 8192)", error("ram", "1", "sectsz", "1024"));
        assertEquals("invalid eui64 option: -1", error("ram", "1", "eui64", "-1"));
        assertEquals("invalid eui64 option: 0x1ffffffffffffffff", error("ram", "1", "eui64", "0x1ffffffffffffffff"));
        assertEquals("invalid dsm option: maybe (auto, enable or disable)", error("ram", "1", "dsm", "maybe"));
        assertEquals("invalid ram option: 0", error("ram", "0"));
        assertEquals("invalid ram option: 12abc", error("ram", "12abc"));
        assertEquals("invalid maxq option: 0x4", error("ram", "1", "maxq", "0x4"), "decimal only, as bhyve");
    }
}
