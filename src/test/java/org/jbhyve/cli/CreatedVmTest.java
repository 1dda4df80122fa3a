package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.control.VmRecord;
import org.junit.jupiter.api.Test;

/** What bhyve takes from a VM bhyveload created. */
class CreatedVmTest {
    private static final VmRecord LOADED = new VmRecord("vm1", "bhyveload", 512L << 20, true, false, "/boot/vmlinuz",
            "/boot/initrd", "console=ttyS0", null, List.of(), "stdio", Map.of());

    @Test
    void memoryKernelAndWiringFillTheGaps() {
        ConfigTree t = new ConfigTree();
        CreatedVm.apply(t, LOADED);
        assertEquals("512M", t.getString("memory.size", ""));
        assertEquals("/boot/vmlinuz", t.getString("boot.kernel", ""));
        assertEquals("/boot/initrd", t.getString("boot.initrd", ""));
        assertEquals("console=ttyS0", t.getString("boot.cmdline", ""));
        assertEquals(true, t.getBoolean("memory.wired", false));
        assertFalse(t.has("memory.guest_in_core"));
    }

    @Test
    void theCommandLineWinsOverTheRecordAndFirmwareTakesNoKernel() {
        ConfigTree t = new ConfigTree();
        t.set("memory.size", "0x20000000");
        t.set("boot.cmdline", "mine");
        CreatedVm.apply(t, LOADED);
        assertEquals("mine", t.getString("boot.cmdline", ""));
        ConfigTree firmware = new ConfigTree();
        firmware.set("lpc.bootrom", "/usr/share/seabios/bios-256k.bin");
        CreatedVm.apply(firmware, LOADED);
        assertFalse(firmware.has("boot.kernel"));
    }

    @Test
    void aDifferentMemorySizeIsOneLine() {
        ConfigTree t = new ConfigTree();
        t.set("memory.size", "1G");
        ConfigException e = assertThrows(ConfigException.class, () -> CreatedVm.apply(t, LOADED));
        assertEquals("-m 1G disagrees with the 512M vm vm1 was created with (by bhyveload;"
                + " bhyvectl --destroy --vm=vm1 starts over)", e.getMessage());
    }

    @Test
    void anEmptyVmChangesNothing() {
        ConfigTree t = new ConfigTree();
        CreatedVm.apply(t, VmRecord.empty("vm1", "bhyvectl"));
        CreatedVm.apply(t, null);
        assertEquals(List.of(), t.dump());
    }

    @Test
    void sizesInTheirLargestUnit() {
        assertEquals("256M", CreatedVm.size(256L << 20));
        assertEquals("4G", CreatedVm.size(4L << 30));
        assertEquals("1536K", CreatedVm.size(1536L << 10));
        assertEquals("12345B", CreatedVm.size(12345));
    }
}
