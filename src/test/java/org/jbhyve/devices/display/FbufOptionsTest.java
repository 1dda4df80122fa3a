package org.jbhyve.devices.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** fbuf's options as bhyve's pci_fbuf_parse_config reads them, with its messages. */
class FbufOptionsTest {
    /** Parses "k=v,k=v,word" the way the config tree stores -s fbuf,... (a bare word is word=true). */
    static FbufOptions parse(String conf) {
        Map<String, String> keys = new HashMap<>();
        if (!conf.isEmpty()) {
            for (String part : conf.split(",")) {
                int eq = part.indexOf('=');
                keys.put(eq < 0 ? part : part.substring(0, eq), eq < 0 ? "true" : part.substring(eq + 1));
            }
        }
        return FbufOptions.parse(k -> Optional.ofNullable(keys.get(k)), k -> "true".equals(keys.get(k)));
    }

    private static String error(String conf) {
        return assertThrows(IllegalArgumentException.class, () -> parse(conf)).getMessage();
    }

    @Test
    void defaultsAreBhyves() {
        FbufOptions o = parse("");
        assertNull(o.host());
        assertEquals(5900, o.listenPort());
        assertEquals(1024, o.width());
        assertEquals(768, o.height());
        assertEquals(FbufOptions.Vga.IO, o.vga());
        assertNull(o.password());
        assertFalse(o.waitForClient());
    }

    @Test
    void theHandbooksLine() {
        FbufOptions o = parse("tcp=0.0.0.0:5900,w=800,h=600,wait");
        assertEquals("0.0.0.0", o.host());
        assertEquals(5900, o.listenPort());
        assertEquals(800, o.width());
        assertEquals(600, o.height());
        assertTrue(o.waitForClient());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rfb=127.0.0.1:5901      | 127.0.0.1        | 5901",
        "tcp=5905                | -                | 5905",
        "rfb=:5907               | -                | 5907",
        "tcp=[::1]:5902          | ::1              | 5902",
        "tcp=[fe80::1%eth0]:5903 | fe80::1%eth0     | 5903",
        "rfb=[::]                | ::               | 5900",
        "rfb=10.0.0.1:0          | 10.0.0.1         | 5900",
        "rfb=1.2.3.4:5910,tcp=5.6.7.8:5911 | 1.2.3.4 | 5910",
    })
    void listenAddresses(String conf, String host, int port) {
        FbufOptions o = parse(conf);
        assertEquals(host.equals("-") ? null : host, o.host());
        assertEquals(port, o.listenPort());
    }

    @Test
    void bhyvesMessagesForBadAddresses() {
        assertEquals("fbuf: Invalid IPv6 address: \"[]:5900\"", error("tcp=[]:5900"));
        assertEquals("fbuf: Invalid IPv6 address: \"[::1\"", error("tcp=[::1"));
        assertEquals("fbuf: Invalid IPv6 address: \"[::1]5900\"", error("tcp=[::1]5900"));
        assertEquals("fbuf: Missing port number: \"[::1]:\"", error("tcp=[::1]:"));
        assertEquals("fbuf: Missing port number: \"1.2.3.4:\"", error("rfb=1.2.3.4:"));
        assertEquals("fbuf: Invalid port number: \"1.2.3.4:59x\"", error("rfb=1.2.3.4:59x"));
        assertEquals("fbuf: Invalid port number: \"70000\"", error("rfb=70000"));
    }

    @Test
    void bhyvesResolutionLimits() {
        assertEquals("fbuf: max resolution is 3840x2160", error("w=3841,h=600"));
        assertEquals("fbuf: max resolution is 3840x2160", error("w=800,h=2161"));
        assertEquals("fbuf: minimum resolution is 640x480", error("w=639"));
        assertEquals("fbuf: minimum resolution is 640x480", error("h=abc"));
        assertEquals("fbuf: minimum resolution is 640x480", error("w=-800"));
        FbufOptions max = parse("w=3840,h=2160");
        assertEquals(3840, max.width());
        assertEquals(2160, max.height());
        assertEquals(640, parse("w=640px,h=480").width(), "strtol stops at the first non-digit");
    }

    @Test
    void vgaSettings() {
        assertEquals(FbufOptions.Vga.OFF, parse("vga=off").vga());
        assertEquals(FbufOptions.Vga.IO, parse("vga=io").vga());
        assertEquals("pci_fbuf: VGA rendering not enabled", error("vga=on"));
        assertEquals("fbuf: Invalid vga setting: \"maybe\"", error("vga=maybe"));
    }

    @Test
    void thePasswordIsKeptButNeverPrinted() {
        FbufOptions o = parse("password=topsecret");
        assertEquals("topsecret", o.password());
        assertFalse(o.toString().contains("topsecret"), o.toString());
    }
}
