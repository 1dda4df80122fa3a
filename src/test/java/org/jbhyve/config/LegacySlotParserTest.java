package org.jbhyve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LegacySlotParserTest {

    private static List<String> parse(String... args) {
        ConfigTree t = new ConfigTree();
        for (String a : args) {
            LegacySlotParser.parse(t, a);
        }
        return t.dump();
    }

    @ParameterizedTest(name = "-s {0}")
    @CsvSource(delimiter = '|', value = {
        "0,hostbridge|pci.0.0.0.device",
        "31,hostbridge|pci.0.31.0.device",
        "2:1,hostbridge|pci.0.2.1.device",
        "2:7,hostbridge|pci.0.2.7.device",
        "1:2:3,hostbridge|pci.1.2.3.device",
        "255:31:7,hostbridge|pci.255.31.7.device",
        "007:01:0,hostbridge|pci.7.1.0.device",
    })
    void slotForms(String arg, String key) {
        assertEquals(List.of(key + "=hostbridge"), parse(arg));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "32,hostbridge|slot 32 is out of range 0-31",
        "2:8,hostbridge|function 8 is out of range 0-7",
        "256:0:0,hostbridge|bus 256 is out of range 0-255",
        "1:2:3:4,hostbridge|expected slot[:function] or bus:slot:function",
        "x,hostbridge|slot \"x\" is not a decimal number",
        "2x,hostbridge|slot \"2x\" is not a decimal number",
        "-1,hostbridge|slot \"-1\" is not a decimal number",
        "2:,hostbridge|function \"\" is not a decimal number",
        "' 2,hostbridge'|slot \" 2\" is not a decimal number",
        "hostbridge|expected slot,emulation[,conf]",
    })
    void malformedOrOutOfRangeSlotsQuoteTheArgument(String arg, String why) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(arg));
        assertEquals("invalid PCI slot \"" + arg + "\": " + why, e.getMessage());
    }

    @Test
    void unknownEmulationAndTakenSlotsAreErrors() {
        assertEquals("pci slot 0:3:0: unknown device \"virtio-foo\" (-s help lists the emulations)",
                assertThrows(ConfigException.class, () -> parse("3,virtio-foo")).getMessage());
        assertEquals("pci slot 0:2:0 already occupied",
                assertThrows(ConfigException.class, () -> parse("2,virtio-rnd", "2:0,hostbridge")).getMessage());
        assertEquals("pci slot 1:0:0: the LPC bridge can be present only on bus 0",
                assertThrows(ConfigException.class, () -> parse("1:0:0,lpc")).getMessage());
        assertEquals(2, parse("2:0,virtio-rnd", "2:1,virtio-rnd").size(), "functions of one slot are distinct");
    }

    @Test
    void genericOptions() {
        assertEquals(List.of("pci.0.29.0.device=fbuf", "pci.0.29.0.tcp=0.0.0.0:5900", "pci.0.29.0.w=800",
                "pci.0.29.0.h=600", "pci.0.29.0.wait=true"), parse("29,fbuf,tcp=0.0.0.0:5900,w=800,h=600,wait"));
        assertEquals(List.of("pci.0.5.0.device=hda", "pci.0.5.0.play=/dev/dsp0", "pci.0.5.0.rec=/dev/dsp0"),
                parse("5,hda,play=/dev/dsp0,,rec=/dev/dsp0"), "empty options are skipped");
        assertEquals(List.of("pci.0.5.0.device=virtio-rnd", "pci.0.5.0.x=a=b"), parse("5,virtio-rnd,x=a=b"),
                "the value is everything after the first '='");
        assertTrue(assertThrows(ConfigException.class, () -> parse("5,virtio-rnd,a.b=1")).getMessage()
                .startsWith("invalid option name \"a.b\""));
        assertTrue(assertThrows(ConfigException.class, () -> parse("5,virtio-rnd,=1")).getMessage()
                .startsWith("invalid option name \"\""));
    }

    @Test
    void blockDevicesTakeThePathFirst() {
        assertEquals(List.of("pci.0.3.0.device=virtio-blk", "pci.0.3.0.path=/my/image", "pci.0.3.0.nocache=true",
                "pci.0.3.0.direct=true", "pci.0.3.0.ro=true", "pci.0.3.0.sectorsize=512/4096",
                "pci.0.3.0.nodelete=true"), parse("3,virtio-blk,/my/image,nocache,direct,ro,sectorsize=512/4096,"
                        + "nodelete"));
        assertEquals(List.of("pci.0.3.0.device=virtio-blk", "pci.0.3.0.path=a=b.img"), parse("3,virtio-blk,a=b.img"),
                "the first token is a path even with an '='");
        assertEquals(List.of("pci.0.3.0.device=virtio-blk"), parse("3,virtio-blk"), "no conf: no backend");
        assertEquals(List.of("pci.0.4.0.device=virtio-scsi", "pci.0.4.0.dev=/dev/cam/ctl", "pci.0.4.0.iid=3"),
                parse("4,virtio-scsi,/dev/cam/ctl,iid=3"));
    }

    @Test
    void ahciHdAndCdAreOnePortControllers() {
        assertEquals(List.of("pci.0.4.0.device=ahci", "pci.0.4.0.port.0.type=hd", "pci.0.4.0.port.0.path=disk.img",
                "pci.0.4.0.port.0.ser=ABC", "pci.0.4.0.port.0.nmrr=1"), parse("4,ahci-hd,disk.img,ser=ABC,nmrr=1"));
        assertEquals(List.of("pci.0.3.0.device=ahci", "pci.0.3.0.port.0.type=cd",
                "pci.0.3.0.port.0.path=/path/to/uefi-OS-install.iso"), parse("3,ahci-cd,/path/to/uefi-OS-install.iso"));
    }

    @Test
    void ahciPortsWithTheirOptions() {
        assertEquals(List.of("pci.0.1.0.device=ahci",
                "pci.0.1.0.port.0.type=hd", "pci.0.1.0.port.0.path=/a.img", "pci.0.1.0.port.0.ro=true",
                "pci.0.1.0.port.0.ser=X1",
                "pci.0.1.0.port.1.type=cd", "pci.0.1.0.port.1.path=/b.iso",
                "pci.0.1.0.port.2.type=hd", "pci.0.1.0.port.2.path=/c.img"),
                parse("1,ahci,hd:/a.img,ro,ser=X1,cd:/b.iso,hd:/c.img"));
        List<String> nine = parse("1:0,ahci,hd:/images/disk.1,hd:/images/disk.2,hd:/images/disk.3,"
                + "hd:/images/disk.4,hd:/images/disk.5,hd:/images/disk.6,hd:/images/disk.7,hd:/images/disk.8,"
                + "cd:/images/install.iso");
        assertEquals(1 + 9 * 2, nine.size());
        assertEquals("pci.0.1.0.port.8.path=/images/install.iso", nine.getLast());
        assertEquals("ahci: missing or invalid type for port 0: \"/x.img\" (expected hd:path or cd:path)",
                assertThrows(ConfigException.class, () -> parse("1,ahci,/x.img")).getMessage());
        String many = String.join(",", java.util.Collections.nCopies(33, "hd:/d"));
        assertEquals("ahci: too many ports (at most 32)",
                assertThrows(ConfigException.class, () -> parse("1,ahci," + many)).getMessage());
    }

    @Test
    void nvmeTakesARamDiskOrAPath() {
        assertEquals(List.of("pci.0.4.0.device=nvme", "pci.0.4.0.ram=1024", "pci.0.4.0.maxq=4"),
                parse("4,nvme,ram=1024,maxq=4"));
        assertEquals(List.of("pci.0.4.0.device=nvme", "pci.0.4.0.path=/dev/sdb", "pci.0.4.0.ser=S1",
                "pci.0.4.0.sectsz=4096"), parse("4,nvme,/dev/sdb,ser=S1,sectsz=4096"));
    }

    @Test
    void networkDevicesTakeTheBackendFirst() {
        assertEquals(List.of("pci.0.2.2.device=virtio-net", "pci.0.2.2.backend=tap2",
                "pci.0.2.2.mac=00:be:fa:76:45:00", "pci.0.2.2.mtu=9000"),
                parse("2:2,virtio-net,tap2,mac=00:be:fa:76:45:00,mtu=9000"));
        assertEquals(List.of("pci.0.5.0.device=e1000", "pci.0.5.0.backend=vmnet0"), parse("5,e1000,vmnet0"));
        assertEquals(List.of("pci.0.5.0.device=virtio-net", "pci.0.5.0.backend=netgraph",
                "pci.0.5.0.path=vmbridge:", "pci.0.5.0.peerhook=link2"),
                parse("5,virtio-net,netgraph,path=vmbridge:,peerhook=link2"));
        assertEquals(List.of("pci.0.5.0.device=virtio-net", "pci.0.5.0.backend=tap0", "pci.0.5.0.mtu=1500"),
                parse("5,virtio-net,backend=tap0,mtu=1500"), "all key=value, as newer bhyve accepts");
    }

    @Test
    void uartTakesTheWholeConfAsItsPath() {
        assertEquals(List.of("pci.0.6.0.device=uart", "pci.0.6.0.path=tcp=127.0.0.1:4444"),
                parse("6,uart,tcp=127.0.0.1:4444"));
    }

    @Test
    void virtioConsolePorts() {
        assertEquals(List.of("pci.0.7.0.device=virtio-console",
                "pci.0.7.0.port.0.name=port1", "pci.0.7.0.port.0.path=/tmp/port1.sock",
                "pci.0.7.0.port.1.name=org.qemu.guest_agent.0", "pci.0.7.0.port.1.path=/tmp/qga.sock"),
                parse("7,virtio-console,port1=/tmp/port1.sock,org.qemu.guest_agent.0=/tmp/qga.sock"));
        StringBuilder sb = new StringBuilder("7,virtio-console");
        for (int i = 0; i < 16; i++) {
            sb.append(",p").append(i).append("=/s").append(i);
        }
        assertEquals(1 + 32, parse(sb.toString()).size(), "16 ports are allowed");
        assertEquals("virtio-console: too many ports (at most 16)",
                assertThrows(ConfigException.class, () -> parse(sb + ",p16=/s16")).getMessage());
        assertEquals("virtio-console: port \"port1\" must be name=path",
                assertThrows(ConfigException.class, () -> parse("7,virtio-console,port1")).getMessage());
    }

    @Test
    void virtio9pShare() {
        assertEquals(List.of("pci.0.8.0.device=virtio-9p", "pci.0.8.0.sharename=hostshare",
                "pci.0.8.0.path=/srv/share", "pci.0.8.0.ro=true"), parse("8,virtio-9p,hostshare=/srv/share,ro"));
        assertEquals("virtio-9p: more than one share name given in \"a=/a,b=/b\"",
                assertThrows(ConfigException.class, () -> parse("8,virtio-9p,a=/a,b=/b")).getMessage());
    }

    @Test
    void passthruSelectors() {
        List<String> expected = List.of("pci.0.7.0.device=passthru", "pci.0.7.0.bus=2", "pci.0.7.0.slot=0",
                "pci.0.7.0.func=1");
        assertEquals(expected, parse("7,passthru,2/0/1"));
        assertEquals(expected, parse("7,passthru,pci2:0:1"));
        assertEquals(expected, parse("7,passthru,pci0:2:0:1"));
        assertEquals(List.of("pci.0.7.0.device=passthru", "pci.0.7.0.bus=2", "pci.0.7.0.slot=0",
                "pci.0.7.0.func=1", "pci.0.7.0.rom=/r.bin"), parse("7,passthru,2/0/1,rom=/r.bin"));
        assertEquals(List.of("pci.0.7.0.device=passthru", "pci.0.7.0.pptdev=ppt0"), parse("7,passthru,ppt0"));
        assertEquals("passthru: invalid options \"0000:02:00.1\" (expected bus/slot/function)",
                assertThrows(ConfigException.class, () -> parse("7,passthru,0000:02:00.1")).getMessage());
        assertEquals("passthru: host slot 32 out of range 0-31 in \"2/32/1\"",
                assertThrows(ConfigException.class, () -> parse("7,passthru,2/32/1")).getMessage());
    }

    @Test
    void xhciDevicesGoInControllerSlots() {
        assertEquals(List.of("pci.0.30.0.device=xhci", "pci.0.30.0.slot.1.device=tablet"), parse("30,xhci,tablet"));
        assertEquals(List.of("pci.0.30.0.device=xhci", "pci.0.30.0.slot.1.device=tablet",
                "pci.0.30.0.slot.2.device=kbd", "pci.0.30.0.slot.2.layout=fr"), parse("30,xhci,tablet,kbd=layout=fr"));
    }

    @Test
    void amdHostbridgeIsAHostbridgeWithAmdIds() {
        assertEquals(List.of("pci.0.0.0.device=hostbridge", "pci.0.0.0.vendor=0x1022", "pci.0.0.0.devid=0x7432"),
                parse("0,amd_hostbridge"));
    }

    @Test
    void everyEmulationIsListedOnceWithADescription() {
        Set<String> names = LegacySlotParser.EMULATIONS.stream().map(LegacySlotParser.Emulation::name)
                .collect(Collectors.toSet());
        assertEquals(LegacySlotParser.EMULATIONS.size(), names.size());
        assertEquals(Set.of("hostbridge", "amd_hostbridge", "lpc", "virtio-blk", "virtio-net", "virtio-rnd",
                "virtio-console", "virtio-9p", "virtio-scsi", "ahci", "ahci-hd", "ahci-cd", "nvme", "e1000", "uart",
                "fbuf", "xhci", "hda", "passthru"), names);
        for (LegacySlotParser.Emulation e : LegacySlotParser.EMULATIONS) {
            assertTrue(LegacySlotParser.isEmulation(e.name()));
            assertFalse(e.description().isBlank() || e.description().contains("\n"), e.name());
            assertEquals(1, parse("9," + e.name()).stream().filter(l -> l.startsWith("pci.0.9.0.device=")).count(),
                    "every emulation parses without conf: " + e.name());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0,hostbridge", "1:2,virtio-rnd", "3:4:5,fbuf,w=1"})
    void nodeNameIsDecimalWithoutLeadingZeroes(String arg) {
        ConfigTree t = new ConfigTree();
        LegacySlotParser.parse(t, arg);
        String[] loc = arg.substring(0, arg.indexOf(',')).split(":");
        int bus = loc.length == 3 ? Integer.parseInt(loc[0]) : 0;
        int slot = Integer.parseInt(loc[loc.length == 3 ? 1 : 0]);
        int func = loc.length == 1 ? 0 : Integer.parseInt(loc[loc.length - 1]);
        assertTrue(t.isNode(LegacySlotParser.nodeName(bus, slot, func)));
    }
}
