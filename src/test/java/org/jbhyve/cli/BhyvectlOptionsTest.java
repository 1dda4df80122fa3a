package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** bhyvectl's getopt_long command line: long options, values three ways, prefixes, strtoul numbers. */
class BhyvectlOptionsTest {

    @Test
    void valuesAttachedOrSeparateAndFlagsInAnyOrder() {
        BhyvectlOptions o = BhyvectlOptions.parse("--get-rip", "--vm=vm1", "--cpu", "1", "--get-stats",
                "--set-rax=0x10", "--get-desc-cs", "--get-cs", "--set-ss", "0x18");
        assertEquals("vm1", o.vm);
        assertEquals(1, o.cpu);
        assertEquals(Set.of("rip"), o.gets);
        assertTrue(o.has("get-stats"));
        assertEquals(Map.of("rax", 16L), o.sets);
        assertEquals(Set.of("cs"), o.getDescriptors);
        assertEquals(Set.of("cs"), o.getSelectors);
        assertEquals(Map.of("ss", 0x18L), o.setSelectors);
    }

    @Test
    void anUnambiguousPrefixIsTheOptionAsWithGetoptLong() {
        BhyvectlOptions o = BhyvectlOptions.parse("--vm=x", "--get-lowm", "--force-p", "--get-cpu-t");
        assertTrue(o.has("get-lowmem"));
        assertTrue(o.has("force-poweroff"));
        assertTrue(o.has("get-cpu-topology"));
    }

    @Test
    void descriptorsAndRtcValues() {
        BhyvectlOptions o = BhyvectlOptions.parse("--vm=x", "--set-desc-ds", "--desc-base=0x1000",
                "--desc-limit=0xffff", "--desc-access=0x93", "--set-rtc-time=86400", "--set-rtc-nvram=0x1ff",
                "--rtc-nvram-offset=20");
        assertEquals(Set.of("ds"), o.setDescriptors);
        assertEquals(0x1000, o.descBase);
        assertEquals(0xFFFF, o.descLimit);
        assertEquals(0x93, o.descAccess);
        assertEquals(86400L, o.setRtcTime);
        assertEquals(0xFF, o.setRtcNvram, "a byte, as bhyvectl's (uint8_t) cast");
        assertEquals(20, o.rtcNvramOffset);
    }

    @ParameterizedTest
    @CsvSource({"42,42", "0x2a,42", "0X2A,42", "052,42", "0,0", "-1,-1", "18446744073709551615,-1",
        "0xffffffff81000000,-2130706432"})
    void numbersReadAsStrtoulBaseZero(String text, long expected) {
        if (text.equals("0xffffffff81000000")) {
            expected = 0xFFFF_FFFF_8100_0000L;
        }
        assertEquals(expected, BhyvectlOptions.number("set-rip", text));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "--get-rip|--vm=<vmname> is required",
        "--vm=x --bogus|unrecognized option '--bogus'",
        "--vm=x --get-r|option '--get-r' is ambiguous",
        "--vm=x --set-rip|option '--set-rip' requires an argument",
        "--vm=x --get-rip=1|option '--get-rip' doesn't allow an argument",
        "--vm=x --set-rip=12q|invalid number '12q' for --set-rip",
        "--vm=x --set-rip=0x|invalid number '0x' for --set-rip",
        "--vm=x --cpu=-2|invalid --cpu '-2' (0-1023)",
        "--vm=x vm2|unexpected argument 'vm2'",
        "--vm=x --getcap|--getcap is not available with Linux KVM",
        "--vm=x --get-vmcs-exit-reason|unrecognized option '--get-vmcs-exit-reason'",
        "--vm=x --checkpoint=/tmp/f --suspend=/tmp/g|--checkpoint and --suspend exclude each other",
        "--vm=x --suspend=|option '--suspend' requires a file name",
    })
    void badCommandLinesAreOneLine(String argv, String message) {
        BhyvectlOptions.UsageException e = assertThrows(BhyvectlOptions.UsageException.class,
                () -> BhyvectlOptions.parse(argv.split(" ")));
        assertEquals(message, e.getMessage());
    }

    @Test
    void usageListsEveryOptionOnce() {
        List<String> names = BhyvectlOptions.names();
        for (String n : List.of("create", "destroy", "get-all", "get-stats", "get-rip", "set-rip=<RIP>", "get-r15",
                "set-dr7=<DR7>", "get-desc-gdtr", "get-lowmem", "get-highmem", "get-memmap", "get-active-cpus",
                "get-suspended-cpus", "get-cpu-topology", "get-x2apic-state", "get-intinfo", "get-rtc-time",
                "set-rtc-time=<RTC-TIME>", "get-rtc-nvram", "set-rtc-nvram=<RTC-NVRAM>",
                "rtc-nvram-offset=<RTC-NVRAM-OFFSET>", "inject-nmi", "force-reset", "force-poweroff", "cpu=<CPU>")) {
            assertEquals(1, names.stream().filter(n::equals).count(), n);
        }
        assertTrue(BhyvectlMain.usage().startsWith("Usage: bhyvectl --vm=<vmname>\n       [--"));
    }
}
