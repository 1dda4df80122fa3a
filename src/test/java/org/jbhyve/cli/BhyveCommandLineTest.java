package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BhyveCommandLineTest {

    @TempDir
    Path dir;

    private static ConfigTree run(String... argv) {
        return assertInstanceOf(ParsedCommand.Run.class, BhyveCommandLine.parse(argv)).tree();
    }

    private static List<String> dump(String... argv) {
        return run(argv).dump();
    }

    private static String error(String... argv) {
        return assertThrows(ConfigException.class, () -> BhyveCommandLine.parse(argv)).getMessage();
    }

    @ParameterizedTest(name = "-{0}")
    @CsvSource({
        "a, x86.x2apic=false",
        "A, acpi_tables=true",
        "C, memory.guest_in_core=true",
        "D, destroy_on_poweroff=true",
        "e, x86.strictio=true",
        "H, x86.vmexit_on_hlt=true",
        "P, x86.vmexit_on_pause=true",
        "S, memory.wired=true",
        "u, rtc.use_localtime=false",
        "w, x86.strictmsr=false",
        "W, virtio_msix=false",
        "x, x86.x2apic=true",
        "Y, x86.mptable=false",
    })
    void eachFlagSetsItsKey(char flag, String line) {
        assertEquals(List.of(line, "name=vm"), dump("-" + flag, "vm"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "-m|512|memory.size=512",
        "-r|/snap/vm1|restore=/snap/vm1",
        "-U|6ba7b810-9dad-11d1-80b4-00c04fd430c8|uuid=6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "-o|hostbridge.vendor=0x1275|hostbridge.vendor=0x1275",
        "-o|x=a=b|x=a=b",
        "-p|1:3|vcpu.1.cpuset=3",
        "-G|1234|gdb.port=1234",
        "-G|w1234|gdb.wait=true,gdb.port=1234",
        "-G|0.0.0.0:1234|gdb.address=0.0.0.0,gdb.port=1234",
        "-G|w[::1]:1234|gdb.wait=true,gdb.address=::1,gdb.port=1234",
        "-c|4|cpus=4",
        "-c|cpus=4,sockets=2,cores=2|cpus=4,sockets=2,cores=2",
        "-c|sockets=2,threads=2|sockets=2,threads=2",
        "-c|''|sockets=1,cores=1,threads=1,cpus=1",
        "-c|2,cpus=4,sockets=4|cpus=4,sockets=4",
    })
    void optionsWithValues(String option, String value, String lines) {
        List<String> expected = new java.util.ArrayList<>(List.of(lines.split(",")));
        expected.add("name=vm");
        assertEquals(expected, dump(option, value, "vm"));
    }

    @Test
    void clusteredFlagsAndAttachedValues() {
        assertEquals(dump("-A", "-H", "-P", "-c", "2", "-m", "1G", "vm"), dump("-AHPc2", "-m1G", "vm"));
        assertEquals(dump("-A", "-s", "3,virtio-rnd", "vm"), dump("-As3,virtio-rnd", "vm"));
        assertEquals(List.of("acpi_tables=true", "name=vm"), dump("-A", "--", "vm"), "-- ends the options");
        assertEquals("invalid vmname '-vm': letters, digits, '.', '_' and '-', starting with a letter or digit",
                error("--", "-vm"), "after -- an operand is not an option");
        assertEquals(List.of("restore=-A", "name=vm"), dump("-r", "-A", "vm"), "an option value may look like an option");
    }

    @Test
    void optionsApplyInCommandLineOrder() {
        assertEquals(Optional.of("false"), run("-x", "-o", "x86.x2apic=false", "vm").get("x86.x2apic"));
        assertEquals(Optional.of("true"), run("-o", "x86.x2apic=false", "-x", "vm").get("x86.x2apic"));
        assertEquals(Optional.of("2G"), run("-m", "1G", "-o", "memory.size=2G", "vm").get("memory.size"));
        assertEquals(Optional.of("1G"), run("-o", "memory.size=2G", "-m", "1G", "vm").get("memory.size"));
        assertEquals(Optional.of("2"), run("-c", "4", "-c", "2", "vm").get("cpus"), "a repeated -c: the last wins");
        assertEquals(Optional.of("vm2"), run("-o", "name=vm1", "vm2").get("name"), "the operand is applied last");
    }

    @Test
    void pinningTheSameVcpuTwiceAppends() {
        ConfigTree t = run("-p", "0:1", "-p", "1:2", "-p", "0:5", "vm");
        assertEquals(Optional.of("1,5"), t.get("vcpu.0.cpuset"));
        assertEquals(Optional.of("2"), t.get("vcpu.1.cpuset"));
    }

    @Test
    void theNameMayComeFromTheTreeAndRestoreMayOmitIt() {
        assertEquals(Optional.of("vm7"), run("-o", "name=vm7").get("name"));
        assertEquals(List.of("restore=/snap/a"), dump("-r", "/snap/a"), "with -r the name is in the snapshot");
    }

    @ParameterizedTest
    @ValueSource(strings = {"vm", "VM-1", "a", "web.example_01", "0abc", "abcdefghijklmnopqrstuvwxyz01234"})
    void validNames(String name) {
        assertEquals(Optional.of(name), run(name).get("name"));
    }

    @Test
    void configDumpIsReportedAndSkipsTheLaterChecks() {
        ParsedCommand.Run r = assertInstanceOf(ParsedCommand.Run.class,
                BhyveCommandLine.parse("-o", "config.dump=1", "-c", "4,cores=2", "vm"));
        assertTrue(r.configDump(), "bhyve dumps before it checks the topology");
        assertFalse(assertInstanceOf(ParsedCommand.Run.class, BhyveCommandLine.parse("vm")).configDump());
    }

    @Test
    void helpStopsAtOnce() {
        ParsedCommand.Help h = assertInstanceOf(ParsedCommand.Help.class, BhyveCommandLine.parse("-h"));
        assertTrue(h.text().startsWith("Usage: bhyve [-AaCDeHhPSuWwxY]\n"));
        assertInstanceOf(ParsedCommand.Help.class, BhyveCommandLine.parse("-A", "-h", "-c", "4,cores=2"));
        assertInstanceOf(ParsedCommand.Help.class, BhyveCommandLine.parse("-h", "-Z"), "getopt stops at -h");
        assertInstanceOf(ParsedCommand.Help.class, BhyveCommandLine.parse("-Ah"));
        assertEquals("pci slot 0:1:0: unknown device \"foo\" (-s help lists the emulations)",
                error("-s", "1,foo", "-h"), "errors before -h are reported, as getopt meets them first");
    }

    @ParameterizedTest
    @ValueSource(strings = {"help", "hel", "h", ""})
    void slotAndLpcHelpAcceptPrefixesAsBhyveDoes(String arg) {
        ParsedCommand.SlotHelp s = assertInstanceOf(ParsedCommand.SlotHelp.class,
                BhyveCommandLine.parse("-s", arg, "vm"));
        assertTrue(s.text().contains("virtio-blk"));
        ParsedCommand.LpcHelp l = assertInstanceOf(ParsedCommand.LpcHelp.class, BhyveCommandLine.parse("-l", arg));
        assertTrue(l.text().contains("bootrom"));
    }

    @Test
    void configFileIsAppliedWhereItStands() throws IOException {
        Path f = dir.resolve("vm.conf");
        Files.writeString(f, """
                # a VM in bhyve_config(5) form
                name=filevm

                memory.size=2G
                pci.0.0.0.device=hostbridge
                  # indented comment
                pci.0.3.0.device=virtio-blk\r
                pci.0.3.0.path=/vm/%(name).img
                """);
        ConfigTree t = run("-m", "1G", "-k", f.toString());
        assertEquals(Optional.of("2G"), t.get("memory.size"), "the file overrides what came before it");
        assertEquals(Optional.of("/vm/filevm.img"), t.get("pci.0.3.0.path"));
        assertEquals(Optional.of("virtio-blk"), t.get("pci.0.3.0.device"), "CRLF line ends are accepted");
        assertEquals(Optional.of("1G"), run("-k", f.toString(), "-m", "1G").get("memory.size"),
                "and what comes after it overrides the file");
        assertEquals(Optional.of("other"), run("-k", f.toString(), "other").get("name"));
    }

    @Test
    void configFileErrorsNameTheFileAndLine() throws IOException {
        Path f = dir.resolve("bad.conf");
        Files.writeString(f, "name=vm\n# fine\nmemory.size\n");
        assertEquals(f + " line 3: invalid config option 'memory.size'", error("-k", f.toString()));
        Files.writeString(f, "name=vm\nempty=\n");
        assertEquals(f + " line 2: invalid config option 'empty='", error("-k", f.toString()));
        Files.writeString(f, "a.b=1\na.b.c=2\n");
        assertEquals(f + " line 2: configuration node a.b.c is a child of existing variable a.b",
                error("-k", f.toString(), "vm"));
        Path missing = dir.resolve("missing.conf");
        assertEquals("Failed to open configuration file " + missing + ": No such file or directory",
                error("-k", missing.toString(), "vm"));
    }

    @Test
    void parsingPrintsNothing() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            BhyveCommandLine.parse("-h");
            BhyveCommandLine.parse("-s", "help");
            assertThrows(ConfigException.class, () -> BhyveCommandLine.parse("-Z", "vm"));
            assertThrows(ConfigException.class, () -> BhyveCommandLine.parse("-m"));
            BhyveCommandLine.parse("-A", "vm");
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void atFilesAreNotExpanded() throws IOException {
        Path f = dir.resolve("args");
        Files.writeString(f, "-A\n");
        assertEquals(Optional.of("@" + f), run("-r", "@" + f, "vm").get("restore"));
        assertTrue(error("@" + f).startsWith("invalid vmname '@"));
    }

    @Test
    void noDefaultsAreWritten() {
        assertEquals(List.of("name=vm"), dump("vm"));
    }
}
