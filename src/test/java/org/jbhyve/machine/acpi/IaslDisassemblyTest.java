package org.jbhyve.machine.acpi;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Disassembles the generated tables with ACPICA's {@code iasl -d}. iasl is a hard
 * requirement of the test suite (Debian/Ubuntu: {@code apt-get install acpica-tools}):
 * without it this test fails rather than skips.
 */
class IaslDisassemblyTest {

    @TempDir
    Path dir;

    static String iasl() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d, "iasl");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        for (String p : List.of("/usr/bin/iasl", "/usr/sbin/iasl", "/usr/local/bin/iasl")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        fail("iasl not found: install acpica-tools (apt-get install -y acpica-tools)");
        return null;
    }

    /** Runs {@code iasl -d} on one table file and returns the .dsl text. */
    String disassemble(String name, byte[] bytes) throws IOException, InterruptedException {
        Path dat = dir.resolve(name.toLowerCase() + ".dat");
        Files.write(dat, bytes);
        Process proc = new ProcessBuilder(iasl(), "-d", dat.getFileName().toString())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "iasl timed out");
        assertEquals(0, proc.exitValue(), "iasl -d " + name + " failed:\n" + out);
        Path dsl = dir.resolve(name.toLowerCase() + ".dsl");
        assertTrue(Files.exists(dsl), "no disassembly for " + name + ":\n" + out);
        String text = Files.readString(dsl, StandardCharsets.ISO_8859_1);
        List<String> problems = new ArrayList<>();
        Pattern bad = Pattern.compile("(?i)(\\berror\\b|\\bwarning\\b|invalid|unknown|mismatch|incorrect)");
        for (String line : (out + "\n" + text).split("\n")) {
            if (bad.matcher(line).find() && !line.contains("0 Errors") && !line.contains("Error Status")) {
                problems.add(line.strip());
            }
        }
        assertTrue(problems.isEmpty(), name + ": iasl reported\n" + String.join("\n", problems)
                + "\n--- output:\n" + out);
        return text;
    }

    @Test
    void allTablesDisassembleCleanly() throws Exception {
        PlatformDescription p = TestPlatforms.twoSocketsTwoCores();
        List<PlatformDescription.IsaDevice> isa = new ArrayList<>(p.isaDevices());
        isa.add(PlatformDescription.IsaDevice.i8042Keyboard());
        p = p.withIsaDevices(isa);
        AcpiTables.Result r = AcpiTables.build(p);
        java.util.Map<String, String> dsl = new java.util.HashMap<>();
        for (TableBlob b : r.blobs()) {
            // iasl loads only tables with a standard header from binary files; the RSDP is
            // checked byte by byte in AcpiTablesTest
            if (!b.name().equals("RSDP")) {
                dsl.put(b.name(), disassemble(b.name(), b.bytes()));
            }
        }
        assertEquals(8, dsl.size());
        assertTrue(dsl.get("FACP").contains("PM1A Event Block Address : 00000400"), dsl.get("FACP"));
        assertTrue(dsl.get("FACP").contains("Reset Register Supported (V2) : 1"));
        assertTrue(dsl.get("APIC").contains("Local Apic ID : 03"));
        assertTrue(dsl.get("MCFG").contains("Base Address : 00000000E0000000"), dsl.get("MCFG"));
        String dsdt = dsl.get("DSDT");
        assertTrue(dsdt.contains("Device (PCI0)"), dsdt);
        assertTrue(Pattern.compile("Name \\(_S5, Package \\(0x04\\)\\s*//[^\\n]*\\n\\s*\\{\\s*0x05,\\s*0x05,\\s*Zero,\\s*Zero")
                .matcher(dsdt).find(), dsdt);
        assertTrue(dsdt.contains("_PRT"));
        assertTrue(dsdt.contains("EisaId (\"PNP0501\")"));
        assertTrue(dsdt.contains("EisaId (\"PNP0C0C\")"));
        assertTrue(dsdt.contains("EisaId (\"PNP0A08\")"));
        assertTrue(dsdt.contains("EisaId (\"PNP0B00\")"));
        assertTrue(dsdt.contains("EisaId (\"PNP0303\")"));
        assertTrue(dsdt.contains("QWordMemory"));
        assertTrue(dsdt.contains("WordBusNumber"));
        assertTrue(dsdt.contains("Method (_PIC, 1, NotSerialized)"));

        String madt = disassemble("MADTX2", AcpiTables.build(p.withX2apic(true)).blob("APIC").bytes());
        assertTrue(madt.contains("Processor x2Apic ID"), madt);
    }
}
