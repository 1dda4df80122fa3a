package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.jbhyve.config.LegacyLpcParser;
import org.jbhyve.config.LegacySlotParser;
import org.junit.jupiter.api.Test;

class UsageTest {

    private final String usage = Usage.usage("bhyve");

    @Test
    void synopsisIsBhyves() {
        List<String> lines = usage.lines().toList();
        assertEquals("Usage: bhyve [-AaCDeHhPSuWwxY]", lines.get(0));
        assertEquals("             [-c [[cpus=]numcpus][,sockets=n][,cores=n][,threads=n]]", lines.get(1));
        assertTrue(lines.get(3).endsWith("[-U uuid] vmname"));
        assertTrue(usage.endsWith("\n"));
    }

    @Test
    void everyOptionHasALine() {
        for (char c : "AaCcDeGHhklmoPprSsUuWwxY".toCharArray()) {
            assertTrue(usage.contains("\n       -" + c + ": "), "-" + c);
        }
        assertTrue(usage.contains("-m: memory size in MB"));
        assertTrue(usage.contains("-s: <slot,driver,configinfo> PCI slot config"));
    }

    @Test
    void kvmNotesSayWhatHasNoEffect() {
        String notes = usage.substring(usage.indexOf("On Linux/KVM:"));
        assertTrue(notes.contains("-a: accepted, no effect: xAPIC mode is the default"));
        assertTrue(notes.contains("-H: accepted, no effect: KVM's in-kernel local APIC already sleeps on HLT"));
        assertTrue(notes.contains("-P: accepted, no effect: KVM's pause-loop exiting already handles PAUSE"));
        assertTrue(notes.contains("the vCPU limit is KVM's (KVM_CAP_MAX_VCPUS), not bhyve's 16"));
    }

    @Test
    void helpListsEveryEmulationAndDeviceOnItsOwnLine() {
        List<String> slots = Usage.slotHelp().lines().toList();
        assertEquals(1 + Usage.implementedEmulations().size(), slots.size());
        for (LegacySlotParser.Emulation e : Usage.implementedEmulations()) {
            assertTrue(slots.stream().anyMatch(l -> l.startsWith("  " + e.name() + " ") && l.endsWith(e.description())),
                    e.name());
        }
        List<String> lpc = Usage.lpcHelp().lines().toList();
        assertEquals(1 + LegacyLpcParser.DEVICES.size(), lpc.size());
        assertTrue(lpc.get(1).startsWith("  com1  "));
        int column = slots.get(1).indexOf(LegacySlotParser.EMULATIONS.getFirst().description());
        assertTrue(slots.stream().skip(1).allMatch(l -> l.length() > column && l.charAt(column - 1) == ' '
                && l.charAt(column) != ' '), "descriptions line up");
    }
}
