package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jbhyve.config.ConfigException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every bad command line fails with one line that says what is wrong, quoting the culprit. */
class CommandLineErrorsTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        // argv (space-separated)              | the message
        "''|missing vmname (bhyve -h shows the usage)",
        "-A|missing vmname (bhyve -h shows the usage)",
        "vm1 vm2|too many arguments after the VM name: vm2",
        "vm1 -A|too many arguments after the VM name: -A",
        "-Z vm|illegal option -- Z (bhyve -h lists the options)",
        "-AZ vm|illegal option -- Z (bhyve -h lists the options)",
        "--verbose vm|illegal option -- - (bhyve -h lists the options)",
        "-m|option requires an argument -- m <size> (bhyve -h lists the options)",
        "vm -m|too many arguments after the VM name: -m",
        "-m 0 vm|invalid memory size '0': must not be zero",
        "-m lots vm|invalid memory size 'lots'",
        "-m 1.5G vm|invalid memory size '1.5G': unknown suffix '.5G' (use K, M, G or T)",
        "-m 99999999999G vm|invalid memory size '99999999999G': too large",
        "-o memory.size=0x vm|invalid memory size '0x': unknown suffix 'x' (use K, M, G or T)",
        "-c 4,cores=2 vm|Topology (4 sockets, 2 cores, 1 threads) does not match 4 vCPUs",
        "-c 3,sockets=2 vm|Topology (2 sockets, 1 cores, 1 threads) does not match 3 vCPUs",
        "-c 0 vm|Invalid value for cpus: '0'",
        "-c 2000 vm|Invalid value for cpus: '2000'",
        "-c sockets=64,cores=32 vm|Computed number of vCPUs too high: 2048 (at most 1024)",
        "-c maxcpus=4 vm|invalid cpu topology 'maxcpus=4': unknown setting 'maxcpus'",
        "-c 2,,cores=1 vm|invalid cpu topology '2,,cores=1': empty cpus",
        "-c cores= vm|invalid cpu topology 'cores=': empty cores",
        "-o cpus=abc vm|Invalid value for cpus: 'abc'",
        "-o novalue vm|invalid configuration option 'novalue' (expected key=value)",
        "-o key= vm|invalid configuration option 'key=' (expected key=value)",
        "-o =v vm|invalid configuration key ''",
        "-o a..b=1 vm|invalid configuration key 'a..b'",
        "-o acpi_tables=maybe vm|invalid value 'maybe' for boolean variable acpi_tables",
        "-o security.seccomp=maybe vm|invalid value 'maybe' for boolean variable security.seccomp",
        "-o pci.0.0.0=x -s 0,hostbridge vm|pci slot 0:0:0 already occupied",
        "-s 0,hostbridge -o pci.0.0.0=x vm|cannot set pci.0.0.0=x: pci.0.0.0 is a node",
        "-s 32,hostbridge vm|invalid PCI slot \"32,hostbridge\": slot 32 is out of range 0-31",
        "-s 1:8,lpc vm|invalid PCI slot \"1:8,lpc\": function 8 is out of range 0-7",
        "-s 256:0:0,hostbridge vm|invalid PCI slot \"256:0:0,hostbridge\": bus 256 is out of range 0-255",
        "-s 2,virtio-foo vm|pci slot 0:2:0: unknown device \"virtio-foo\" (-s help lists the emulations)",
        "-s 2,virtio-rnd -s 2:0,hostbridge vm|pci slot 0:2:0 already occupied",
        "-s hostbridge vm|invalid PCI slot \"hostbridge\": expected slot,emulation[,conf]",
        "-l com9,stdio vm|invalid lpc device configuration 'com9,stdio' (-l help lists the devices)",
        "-l bootrom vm|invalid bootrom option \"bootrom\": bootrom,romfile[,varsfile]",
        "-p 0 vm|invalid vcpu pinning configuration '0' (expected vcpu:hostcpu)",
        "-p 0:-1 vm|invalid vcpu pinning configuration '0:-1' (expected vcpu:hostcpu)",
        "-p 0:x vm|invalid vcpu pinning configuration '0:x' (expected vcpu:hostcpu)",
        "-p 0:1024 vm|invalid vcpu pinning configuration '0:1024': hostcpu 1024 outside valid range from 0 to 1023",
        "-p 4096:1 vm|invalid vcpu pinning configuration '4096:1': vcpu 4096 outside valid range from 0 to 1023",
        "-G abc vm|invalid debug server port 'abc' in -G abc (expected [w][addr:]port, port 1-65535)",
        "-G 70000 vm|invalid debug server port '70000' in -G 70000 (expected [w][addr:]port, port 1-65535)",
        "-G w vm|invalid debug server port '' in -G w (expected [w][addr:]port, port 1-65535)",
        "-G :1234 vm|invalid debug server address in -G :1234",
        "-U not-a-uuid vm|invalid UUID 'not-a-uuid' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        "-o uuid=123 vm|invalid UUID '123' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        "bad/name|invalid vmname 'bad/name': letters, digits, '.', '_' and '-', starting with a letter or digit",
        "-vm|illegal option -- v (bhyve -h lists the options)",
        ".hidden|invalid vmname '.hidden': letters, digits, '.', '_' and '-', starting with a letter or digit",
        "abcdefghijklmnopqrstuvwxyz012345|invalid vmname 'abcdefghijklmnopqrstuvwxyz012345': longer than 31 characters",
        "-o name=a%(nope) |reference to unknown configuration variable nope in \"a%(nope)\"",
    })
    void oneLineErrors(String commandLine, String message) {
        String[] argv = commandLine.isBlank() ? new String[0] : commandLine.strip().split(" ");
        ConfigException e = assertThrows(ConfigException.class, () -> BhyveCommandLine.parse(argv));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), "one line");
        assertFalse(e.getMessage().endsWith(" "), "no trailing space");
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> lineBreaks() {
        return java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("-o", "a=x\ny"),
                org.junit.jupiter.params.provider.Arguments.of("-s", "2,virtio-blk,/a\nb"),
                org.junit.jupiter.params.provider.Arguments.of("-l", "com1,/dev/x\r\ny"));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("lineBreaks")
    void lineBreaksInUserTextNeverBreakTheMessage(String option, String value) {
        ConfigException e = assertThrows(ConfigException.class, () -> BhyveCommandLine.parse(option, value, "vm"));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("contains a line break"), e.getMessage());
    }
}
