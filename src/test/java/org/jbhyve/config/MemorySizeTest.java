package org.jbhyve.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MemorySizeTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
        "256M, 268435456",
        "256m, 268435456",
        "1024M, 1073741824",
        "1G, 1073741824",
        "1g, 1073741824",
        "24G, 25769803776",
        "4T, 4398046511104",
        "4t, 4398046511104",
        "512K, 524288",
        "512k, 524288",
        "512, 536870912",          // bare, below 1 MiB: MiB (bhyve's backward compatibility)
        "1, 1048576",
        "1048575, 1099510579200",  // the largest bare MiB count
        "1048576, 1048576",        // from 1 MiB up a bare number is bytes
        "2147483648, 2147483648",
        "0x100, 268435456",        // strtoul base 0: hex ...
        "0x40000000, 1073741824",
        "0400, 268435456",         // ... and octal
        "2048B, 2048",
        "1P, 1125899906842624",
    })
    void sizes(String text, long bytes) {
        assertEquals(bytes, ConfigTree.parseMemorySize(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0|invalid memory size '0': must not be zero",
        "0G|invalid memory size '0G': must not be zero",
        "0x0|invalid memory size '0x0': must not be zero",
        "G|invalid memory size 'G'",
        "-1|invalid memory size '-1'",
        "1.5G|invalid memory size '1.5G': unknown suffix '.5G' (use K, M, G or T)",
        "1GB|invalid memory size '1GB': unknown suffix 'GB' (use K, M, G or T)",
        "1Q|invalid memory size '1Q': unknown suffix 'Q' (use K, M, G or T)",
        "' 1G'|invalid memory size ' 1G'",
        "16E|invalid memory size '16E': too large",
        "99999999999999999999|invalid memory size '99999999999999999999': too large",
        "17592186044416M|invalid memory size '17592186044416M': too large",
        "08|invalid memory size '08': unknown suffix '8' (use K, M, G or T)",
    })
    void errors(String text, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.parseMemorySize(text));
        assertEquals(message, e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void emptyIsAnError() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.parseMemorySize(""));
        assertTrue(e.getMessage().startsWith("invalid memory size"));
        assertFalse(e.getMessage().contains("\n"));
    }
}
