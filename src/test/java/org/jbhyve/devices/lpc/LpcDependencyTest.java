package org.jbhyve.devices.lpc;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * LPC device models get IRQ lines, backends and callbacks; they never reach the host directly.
 * A scan of the sources' imports (ArchUnit 1.3 cannot read class files of this JDK).
 */
class LpcDependencyTest {
    @Test
    void lpcModelsDoNotImportSysOrKvm() throws IOException {
        Path dir = Path.of(System.getProperty("jbhyve.home", "."), "src/main/java/org/jbhyve/devices/lpc");
        assertTrue(Files.isDirectory(dir), dir.toString());
        List<String> offenders;
        try (Stream<Path> files = Files.list(dir)) {
            offenders = files.filter(p -> p.toString().endsWith(".java")).flatMap(p -> {
                try {
                    return Files.readAllLines(p).stream()
                            .filter(l -> l.matches("\\s*import\\s+(static\\s+)?org\\.jbhyve\\.(sys|kvm)\\b.*"))
                            .map(l -> p.getFileName() + ": " + l.trim());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
        assertEquals(List.of(), offenders);
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.count() >= 7, "the scan saw the models");
        }
    }
}
