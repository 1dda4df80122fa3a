package org.jbhyve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LegacyLpcParserTest {

    private static List<String> parse(String... args) {
        ConfigTree t = new ConfigTree();
        for (String a : args) {
            LegacyLpcParser.parse(t, a);
        }
        return t.dump();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "com1,stdio|lpc.com1.path=stdio",
        "com2,/dev/nmdm0A|lpc.com2.path=/dev/nmdm0A",
        "COM3,tcp=127.0.0.1:4444|lpc.com3.path=tcp=127.0.0.1:4444",
        "com4,/dev/pts/3,extra|lpc.com4.path=/dev/pts/3,extra",
        "pc-testdev|lpc.pc-testdev=true",
        "fwcfg,qemu|lpc.fwcfg=qemu",
        "fwcfg,bhyve|lpc.fwcfg=bhyve",
    })
    void singleKeyDevices(String arg, String line) {
        assertEquals(List.of(line), parse(arg));
    }

    @Test
    void bootromWithAndWithoutVariables() {
        assertEquals(List.of("lpc.bootrom=/usr/local/share/uefi-firmware/BHYVE_UEFI.fd"),
                parse("bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd"));
        assertEquals(List.of("lpc.bootrom=/fw/OVMF_CODE.fd", "lpc.bootvars=/vm/vars.fd"),
                parse("bootrom,/fw/OVMF_CODE.fd,/vm/vars.fd"));
        assertEquals(List.of("lpc.bootrom=/fw/OVMF_CODE.fd", "lpc.bootvars=/vm/vars.fd", "lpc.x=1"),
                parse("bootrom,/fw/OVMF_CODE.fd,/vm/vars.fd,x=1"));
        assertEquals(List.of("lpc.bootrom=/fw/OVMF_CODE.fd", "lpc.x=1"), parse("BOOTROM,/fw/OVMF_CODE.fd,x=1"),
                "a key=value in place of the variables file is an option, as in bhyve");
    }

    @Test
    void theSameNodeCollectsEveryDevice() {
        assertEquals(List.of("lpc.com1.path=stdio", "lpc.bootrom=/fw.fd", "lpc.com2.path=/dev/pts/1"),
                parse("com1,stdio", "bootrom,/fw.fd", "com2,/dev/pts/1"));
        assertEquals(List.of("lpc.com1.path=/b"), parse("com1,/a", "com1,/b"), "the last one wins");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "com5,stdio|invalid lpc device configuration 'com5,stdio' (-l help lists the devices)",
        "tpm,swtpm,/s|invalid lpc device configuration 'tpm,swtpm,/s' (-l help lists the devices)",
        "com1|invalid lpc device configuration 'com1': com1 needs a backend (stdio, a tty path or tcp=ip:port)",
        "com1,|invalid lpc device configuration 'com1,': com1 needs a backend (stdio, a tty path or tcp=ip:port)",
        "bootrom|invalid bootrom option \"bootrom\": bootrom,romfile[,varsfile]",
        "bootrom,|invalid bootrom option \"bootrom,\": bootrom,romfile[,varsfile]",
        "fwcfg,seabios|invalid lpc device configuration 'fwcfg,seabios': fwcfg is bhyve or qemu",
        "fwcfg|invalid lpc device configuration 'fwcfg': fwcfg is bhyve or qemu",
        "pc-testdev,x|invalid lpc device configuration 'pc-testdev,x': pc-testdev takes no options",
    })
    void errors(String arg, String message) {
        assertEquals(message, assertThrows(ConfigException.class, () -> parse(arg)).getMessage());
    }

    @Test
    void everyListedDeviceIsAccepted() {
        assertEquals(List.of("com1", "com2", "com3", "com4", "bootrom", "pc-testdev", "fwcfg"),
                LegacyLpcParser.DEVICES.stream().map(LegacyLpcParser.Device::name).collect(Collectors.toList()));
        for (LegacyLpcParser.Device d : LegacyLpcParser.DEVICES) {
            String arg = switch (d.name()) {
                case "pc-testdev" -> d.name();
                case "fwcfg" -> "fwcfg,qemu";
                default -> d.name() + ",x";
            };
            assertEquals(1, parse(arg).size(), d.name());
        }
    }
}
