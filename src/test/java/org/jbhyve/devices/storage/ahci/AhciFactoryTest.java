package org.jbhyve.devices.storage.ahci;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.LegacySlotParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bhyve's -s syntax, through the legacy parser's keys, to drives on ports. */
class AhciFactoryTest {
    @TempDir
    Path dir;
    private AhciFixture f;
    private AhciController hba;

    @AfterEach
    void close() {
        if (hba != null) {
            hba.close();
        }
        f.close();
    }

    /** The controller for {@code -s 4,<emulation>,<conf>} as the machine would build it. */
    private AhciController build(String emulation, String conf) {
        ConfigTree tree = new ConfigTree();
        LegacySlotParser.parse(tree, "4," + emulation + "," + conf);
        String node = "pci.0.4.0";
        return AhciFactory.create(node, k -> tree.get(node + "." + k), k -> tree.getBoolean(node + "." + k, false),
                f.guest.memory, f.guest);
    }

    private byte[] identify(int port, int command) {
        AhciDriver d = new AhciDriver(hba, f.guest);
        AhciDriver.Port p = d.port(port);
        p.start();
        long buf = f.guest.alloc(512, 2);
        assertEquals(0x50, p.run(0, AhciDriver.fis(command, 0, 0, 0, 0), null, false, new AhciDriver.Prd(buf, 512)));
        return f.guest.memory.read(buf, 512);
    }

    private static String ataString(byte[] id, int w, int chars) {
        byte[] s = new byte[chars];
        for (int i = 0; i < chars; i++) {
            s[i] = id[2 * w + (i ^ 1)];
        }
        return new String(s).trim();
    }

    @Test
    void severalPortsWithTheirOwnOptions() throws Exception {
        f = new AhciFixture(dir, 2 << 20);
        Path a = f.disk("a.img", 1 << 16);
        Path c = f.iso("c.iso", 20);
        Path b = f.disk("b.img", 1 << 17);
        hba = build("ahci", "hd:" + a + ",ser=DISK-A,nmrr=1,nodelete,cd:" + c + ",model=Optical,hd:" + b + ",ro");
        assertEquals(0b111, hba.portsImplemented());
        byte[] id0 = identify(0, 0xEC);
        assertEquals("DISK-A", ataString(id0, 10, 20));
        assertEquals(1, id0[2 * 217]);
        assertEquals(0, id0[2 * 169] & 1, "nodelete: no TRIM");
        byte[] id1 = identify(1, 0xA1);
        assertEquals("Optical", ataString(id1, 27, 40));
        assertEquals(AhciDrive.defaultSerial(c.toString()), ataString(id1, 10, 20));
        byte[] id2 = identify(2, 0xEC);
        assertEquals(256, (id2[120] & 0xFF) | (id2[121] & 0xFF) << 8, "128 KiB = 256 sectors");
        assertEquals(0, id2[2 * 169] & 1, "read-only: no TRIM");
        assertEquals("BHYVE SATA DISK", ataString(id2, 27, 40));
    }

    @Test
    void ahciHdAndAhciCdAreOnePortControllers() throws Exception {
        f = new AhciFixture(dir, 1 << 20);
        Path a = f.disk("a.img", 1 << 16);
        hba = build("ahci-hd", a + ",rev=R2D2");
        assertEquals(1, hba.portsImplemented());
        assertEquals("R2D2", ataString(identify(0, 0xEC), 23, 8));
        hba.close();
        hba = build("ahci-cd", f.iso("x.iso", 4).toString());
        assertEquals(AhciPort.SIG_ATAPI, new AhciDriver(hba, f.guest).port(0).reg(AhciPort.SIG));
    }

    @Test
    void badSettingsAreOneLineErrorsNamingTheKey() throws Exception {
        f = new AhciFixture(dir, 1 << 20);
        Path a = f.disk("a.img", 1 << 16);
        assertEquals("pci.0.4.0.port.0: disk image " + dir.resolve("none.img") + ": No such file or directory",
                assertThrows(IllegalArgumentException.class, () -> build("ahci-hd", dir.resolve("none.img").toString()))
                        .getMessage());
        assertEquals("pci.0.4.0.port.1.nmrr: not a rotation rate 0-65535: fast",
                assertThrows(IllegalArgumentException.class, () -> build("ahci", "hd:" + a + ",hd:" + a + ",nmrr=fast"))
                        .getMessage());
        Map<String, String> keys = new HashMap<>(Map.of("port.3.type", "tape", "port.3.path", a.toString()));
        assertEquals("pci.0.1.0.port.3.type: 'tape' is not hd or cd",
                assertThrows(IllegalArgumentException.class, () -> AhciFactory.create("pci.0.1.0",
                        k -> Optional.ofNullable(keys.get(k)), k -> false, f.guest.memory, f.guest)).getMessage());
        keys.remove("port.3.type");
        assertEquals("pci.0.1.0.port.3.type: missing (hd or cd)",
                assertThrows(IllegalArgumentException.class, () -> AhciFactory.create("pci.0.1.0",
                        k -> Optional.ofNullable(keys.get(k)), k -> false, f.guest.memory, f.guest)).getMessage());
    }

    @Test
    void anEmptyControllerHasSixPortsWithoutDevices() throws Exception {
        f = new AhciFixture(dir, 1 << 20);
        hba = AhciFactory.create("pci.0.5.0", k -> Optional.empty(), k -> false, f.guest.memory, f.guest);
        assertEquals(6, hba.portCount());
        assertEquals(0, hba.portsImplemented());
    }
}
