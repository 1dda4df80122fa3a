package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.LegacySlotParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** firmware.debug shares port 0x402 with PM1_EN: bytes are the log, words are PM1. */
class FirmwareDebugTest {
    @TempDir
    Path dir;

    /** A PM1 event block that records what reaches it and reads back 0x1234. */
    private static final class RecordingPm1 implements IoHandler {
        final List<String> accesses = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            accesses.add("r" + offset + "/" + size);
            return 0x1234;
        }

        @Override
        public void write(long offset, int size, long value) {
            accesses.add("w" + offset + "/" + size + "=" + Long.toHexString(value));
        }
    }

    private static MachineSpec spec(String... settings) {
        ConfigTree t = new ConfigTree();
        t.set("name", "vm1");
        LegacySlotParser.parse(t, "0,hostbridge");
        for (String s : settings) {
            t.set(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        }
        return MachineSpec.from(t);
    }

    @Test
    void withoutTheSettingPm1IsUntouched() {
        RecordingPm1 pm1 = new RecordingPm1();
        try (Resources r = new Resources()) {
            assertSame(pm1, FirmwareDebug.sharePm1Event(spec(), 0x400, pm1, r));
        }
    }

    @Test
    void bytesAt0x402GoToTheLogAndEverythingElseToPm1() throws Exception {
        Path log = dir.resolve("fw.log");
        RecordingPm1 pm1 = new RecordingPm1();
        try (Resources r = new Resources()) {
            IoHandler shared = FirmwareDebug.sharePm1Event(spec("firmware.debug=" + log), 0x400, pm1, r);
            assertEquals(0xE9, shared.read(2, 1), "SeaBIOS's probe reads 0xE9 back");
            for (char c : "hi\n".toCharArray()) {
                shared.write(2, 1, c);
            }
            shared.write(2, 2, 0x0100); // an OS enabling the power button in PM1_EN
            assertEquals(0x1234, shared.read(2, 2));
            assertEquals(0x1234, shared.read(0, 2));
            assertEquals(List.of("w2/2=100", "r2/2", "r0/2"), pm1.accesses);
        }
        assertEquals("hi\n", Files.readString(log));
    }
}
