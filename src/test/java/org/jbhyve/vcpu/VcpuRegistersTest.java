package org.jbhyve.vcpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.VcpuEvents;
import org.junit.jupiter.api.Test;

/** bhyve's views of KVM's vCPU state: VMX access rights and VM_INTINFO. */
class VcpuRegistersTest {

    @Test
    void accessRightsOfTheUsualSegments() {
        assertEquals(0xA09B, VcpuRegisters.toDescriptor(Segment.flatCode(8, true)).access(), "64-bit code: L, G, P, S, type B");
        assertEquals(0xC09B, VcpuRegisters.toDescriptor(Segment.flatCode(8, false)).access(), "32-bit code: D, G");
        assertEquals(0xC093, VcpuRegisters.toDescriptor(Segment.flatData(16)).access());
        Descriptor tss = VcpuRegisters.toDescriptor(Segment.busyTss(0x18, 0x5000, 0x67));
        assertEquals(new Descriptor(0x5000, 0x67, 0x8B), tss);
        Descriptor real = VcpuRegisters.toDescriptor(new Segment(0xFFFF0000L, 0xFFFF, 0xF000, 0xB, true, 0, false, true,
                false, false, false));
        assertEquals(new Descriptor(0xFFFF0000L, 0xFFFF, 0x9B), real);
        assertEquals(0xFFFF_FFFFL, VcpuRegisters.toDescriptor(Segment.flatData(16)).limit(), "limit is unsigned");
    }

    @Test
    void accessRightsRoundTripKeepingTheSelector() {
        for (Segment s : new Segment[] {Segment.flatCode(8, true), Segment.flatCode(8, false), Segment.flatData(0x10),
                Segment.busyTss(0x18, 0x5000, 0x67),
                new Segment(0, 0, 0, 0, false, 3, false, false, false, false, true)}) {
            assertEquals(s, VcpuRegisters.fromDescriptor(s.selector(), VcpuRegisters.toDescriptor(s)));
        }
        Segment user = VcpuRegisters.fromDescriptor(0x2B, new Descriptor(0x1000, 0xFFFFF, 0xF3 | Descriptor.G));
        assertEquals(3, user.dpl());
        assertEquals(0x2B, user.selector());
        assertTrue(user.g() && user.present() && user.s());
    }

    private static VcpuEvents none() {
        return new VcpuEvents(false, 0, false, false, 0, false, 0, false, false, false, false);
    }

    @Test
    void intinfoFromEvents() {
        assertArrayEquals(new long[] {0, 0}, VcpuRegisters.intinfo(none()));
        VcpuEvents pf = new VcpuEvents(true, 14, true, false, 2, false, 0, false, false, true, false);
        assertArrayEquals(new long[] {0x8000_0202L, (2L << 32) | 0x8000_0B0EL}, VcpuRegisters.intinfo(pf),
                "a page fault being delivered, an NMI waiting");
        VcpuEvents irq = new VcpuEvents(false, 0, false, false, 0, true, 0x30, false, false, false, false);
        assertArrayEquals(new long[] {0, 0x8000_0030L}, VcpuRegisters.intinfo(irq));
        VcpuEvents soft = new VcpuEvents(false, 0, false, false, 0, true, 0x80, true, false, false, false);
        assertArrayEquals(new long[] {0, 0x8000_0480L}, VcpuRegisters.intinfo(soft));
        VcpuEvents queued = new VcpuEvents(false, 6, false, true, 0, false, 0, false, true, false, true);
        assertArrayEquals(new long[] {0x8000_0306L, 0x8000_0202L}, VcpuRegisters.intinfo(queued));
    }

    @Test
    void namesAreBhyvesAndInKvmRegsOrder() {
        assertEquals("rax", VcpuRegisters.NAMES.get(0));
        assertEquals("rsp", VcpuRegisters.NAMES.get(6));
        assertEquals("rbp", VcpuRegisters.NAMES.get(7));
        assertEquals("rip", VcpuRegisters.NAMES.get(16));
        assertEquals("rflags", VcpuRegisters.NAMES.get(17));
        assertTrue(VcpuRegisters.NAMES.containsAll(java.util.List.of("cr0", "cr2", "cr3", "cr4", "efer", "dr0", "dr3",
                "dr6", "dr7", "cs", "ldtr")));
        assertEquals(java.util.List.of("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldtr", "gdtr", "idtr"),
                VcpuRegisters.DESCRIPTORS);
    }

    @Test
    void exitCountersCountPerKind() {
        ExitCounters c = new ExitCounters();
        c.count(ExitCounters.Kind.IO);
        c.count(ExitCounters.Kind.IO);
        c.count(ExitCounters.Kind.REQUESTS);
        assertEquals(2, c.get(ExitCounters.Kind.IO));
        assertEquals(2L, c.snapshot().get("jbhyve.exits.io"));
        assertEquals(1L, c.snapshot().get("jbhyve.control_requests"));
        assertEquals(ExitCounters.Kind.values().length, c.snapshot().size());
    }
}
