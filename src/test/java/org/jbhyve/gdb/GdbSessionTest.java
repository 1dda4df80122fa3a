package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import org.jbhyve.kvm.Registers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server's protocol through a socket, against a simulated VM: every malformed request gets
 * one error reply and changes nothing; guest-given-looking addresses outside RAM are faults.
 */
class GdbSessionTest {
    private FakeTarget target;
    private GdbServer server;
    private RspClient gdb;

    @BeforeEach
    void start() throws IOException {
        target = new FakeTarget(0x10000, 0x11000);
        target.load(0x10000, 0x90, 0x90, 0x90, 0x90, 0xEB, 0xFA); // nop x4; jmp 0x10000
        target.load(0x11000, 0xEB, 0xFE);
        target.memory.putLong(FakeTarget.PD + 16, 0x4000_0000L | 0x83); // 0x400000: a 2 MiB page beyond RAM
        server = GdbServer.listen("127.0.0.1", 0);
        target.onEnd = server::vmEnded;
        server.start(target);
        gdb = new RspClient(server.localAddress().getPort());
    }

    @AfterEach
    void stop() throws IOException {
        gdb.close();
        server.close();
        target.end(0);
    }

    private byte[] ramCopy() {
        return target.ram.clone();
    }

    @Test
    void handshakeThreadsAndStopReason() throws IOException {
        assertTrue(gdb.request("qSupported:swbreak+;hwbreak+").contains("PacketSize=4000"));
        assertTrue(gdb.request("qSupported:swbreak+").contains("qXfer:features:read+"));
        assertEquals("", gdb.request("vMustReplyEmpty"));
        assertEquals("T05thread:1;", gdb.request("?"));
        assertEquals("m1,2", gdb.request("qfThreadInfo"));
        assertEquals("l", gdb.request("qsThreadInfo"));
        assertEquals("1", gdb.request("qAttached"));
        assertEquals("QC1", gdb.request("qC"));
        assertEquals(Hex.encode("vCPU 1"), gdb.request("qThreadExtraInfo,2"));
        assertEquals("OK", gdb.request("T2"));
        assertEquals("E16", gdb.request("T3"));
        assertEquals("OK", gdb.request("Hg2"));
        assertEquals("QC2", gdb.request("qC"));
        assertEquals("E16", gdb.request("Hg3"));
        assertEquals("vCont;c;C;s;S", gdb.request("vCont?"));
    }

    @Test
    void aBadChecksumIsAnsweredWithANakAndTheResentPacketWorks() throws IOException {
        gdb.raw("$qC#00");
        assertEquals('-', gdb.read());
        assertEquals("QC1", gdb.request("qC"));
        gdb.raw("-"); // asks for the last reply again
        assertEquals("QC1", gdb.reply());
    }

    @Test
    void malformedPacketsGetAnErrorAndChangeNothing() throws IOException {
        byte[] before = ramCopy();
        long rip = target.cpus.get(0).state.regs.get(Registers.RIP);
        for (String bad : new String[] {"m", "m10000", "m,4", "mxyz,4", "m10000,", "m1,2,3", "M10000,2:41",
            "M10000,1:zz", "M10000:41", "M10000,10000000:00", "X10000,2:a", "p", "pzz", "p41", "p1000000000",
            "P10=12", "P0=zz", "Pq=0011223344556677", "G00", "gg", "Z0", "Z0,1", "Z0,x,1", "z1,1,1,1", "Hx1", "H",
            "Hgq", "qThreadExtraInfo,9", "qXfer:features:read:target.xml", "qXfer:features:read:target.xml:0",
            "qXfer:features:read:target.xml:ffffff,10", "m11111111111111111,1", "vCont;q", "vCont;s:7"}) {
            assertEquals("E16", gdb.request(bad), bad);
        }
        assertEquals("E00", gdb.request("qXfer:features:read:other.xml:0,10"));
        assertEquals("", gdb.request("Z9,10000,1"), "unknown breakpoint types are unsupported");
        assertEquals("", gdb.request("qUnknownQuery"));
        assertEquals("", gdb.request("!"));
        assertTrue(Arrays.equals(before, target.ram), "guest RAM untouched");
        assertEquals(rip, target.cpus.get(0).state.regs.get(Registers.RIP));
        assertTrue(target.allParked(), "the guest stays stopped");
        assertEquals("QC1", gdb.request("qC"), "and the session goes on");
    }

    @Test
    void addressesOutsideRamAreFaults() throws IOException {
        byte[] before = ramCopy();
        assertEquals("E0e", gdb.request("m400000,4"), "mapped, but to no RAM");
        assertEquals("E0e", gdb.request("m800000,4"), "not mapped");
        assertEquals("E0e", gdb.request("m800000000000,4"), "not canonical");
        assertEquals("E0e", gdb.request("M3ffffe,4:01020304"), "the last two bytes are not RAM");
        assertEquals("E0e", gdb.request("Z0,400000,1"));
        assertEquals("E0e", gdb.request("Z0,ffff800000000000,1"));
        assertTrue(Arrays.equals(before, target.ram), "nothing was written");
        assertEquals("0000", gdb.request("m3ffffe,4"), "a read stops where RAM ends");
    }

    @Test
    void hugeLengthsAreCappedToOnePacket() throws IOException {
        String r = gdb.request("m10000,ffffffffffffffff");
        assertEquals(2 * Commands.MAX_READ, r.length());
        assertTrue(r.startsWith("90909090ebfa"));
        assertEquals("E16", gdb.request("M10000,ffffffff:00"));
    }

    @Test
    void anOverlongPacketIsAcknowledgedAndRefused() throws IOException {
        String big = "M10000,1:" + "0".repeat(PacketReader.MAX_PAYLOAD * 2);
        assertEquals("E16", gdb.request(big));
        assertEquals((byte) 0x90, target.ram[0x10000]);
    }

    @Test
    void memoryAndRegistersReadAndWrite() throws IOException {
        assertEquals("90909090", gdb.request("m10000,4"));
        assertEquals("90909090", gdb.request("mffffffff80010000,4"), "the same RAM through the high mapping");
        assertEquals("OK", gdb.request("M12000,3:414243"));
        assertEquals("OK", gdb.request("X12003,3:}\u0003}\u0004}]"));
        assertEquals("41424323247d", gdb.request("m12000,6"), "X data is binary with } escapes");
        assertEquals("OK", gdb.request("X12000,0:"), "an empty binary write is the probe gdb makes");
        String g = gdb.request("g");
        assertEquals(2 * RegisterFile.totalBytes(), g.length());
        assertEquals("0000010000000000", gdb.request("p10"), "rip");
        assertEquals("OK", gdb.request("P0=efbeadde00000000"));
        assertEquals(0xDEADBEEFL, target.cpus.get(0).state.regs.get(Registers.RAX));
        assertEquals("OK", gdb.request("G" + g));
        assertEquals(0L, target.cpus.get(0).state.regs.get(Registers.RAX), "G wrote every register back");
        assertEquals("0010000000000000", gdb.request("p3d"), "cr3");
    }

    @Test
    void breakpointLimitsAreErrorsNotFailures() throws IOException {
        for (int i = 0; i < 4; i++) {
            assertEquals("OK", gdb.request("Z1," + Integer.toHexString(0x10000 + i) + ",1"));
        }
        assertEquals("E1c", gdb.request("Z2,12000,4"));
        assertEquals("OK", gdb.request("z1,10000,1"));
        assertEquals("OK", gdb.request("Z2,12000,4"));
        assertEquals("OK", gdb.request("z2,12000,4"));
        assertEquals("OK", gdb.request("z0,10000,1"), "removing what is not there is fine");
    }

    @Test
    void aSecondClientIsTurnedAway() throws IOException {
        try (RspClient second = new RspClient(server.localAddress().getPort())) {
            assertEquals(-1, second.read(), "closed at once");
        }
        assertEquals("QC1", gdb.request("qC"));
    }

    @Test
    void interruptStopsTheRunningGuestAndVCtrlCToo() throws Exception {
        gdb.send("vCont;c");
        Thread.sleep(50);
        assertFalse(target.allParked());
        gdb.raw("\u0003");
        assertTrue(gdb.reply().matches("T02thread:[12];"));
        assertTrue(target.allParked());
        gdb.send("c");
        assertEquals("OK", gdb.request("vCtrlC"));
        assertTrue(gdb.reply().startsWith("T02thread:"));
        assertTrue(target.allParked());
    }

    /** Takes the four debug registers with hardware breakpoints nothing executes, so Z0s are planted. */
    private void takeAllSlots() throws IOException {
        for (int i = 0; i < 4; i++) {
            assertEquals("OK", gdb.request("Z1," + Integer.toHexString(0x13000 + i) + ",1"));
        }
    }

    @Test
    void detachRemovesBreakpointsAndLetsTheGuestRun() throws Exception {
        takeAllSlots();
        assertEquals("OK", gdb.request("Z0,10002,1"));
        assertEquals((byte) 0xCC, target.ram[0x10002]);
        assertEquals("90909090", gdb.request("m10000,4"), "reads show the original byte");
        gdb.send("vCont;c");
        assertEquals("T05thread:1;", gdb.reply(), "without swbreak+ in qSupported the reason is left out");
        assertEquals(0x10002, target.cpus.get(0).state.regs.get(Registers.RIP));
        assertEquals("OK", gdb.request("D"));
        assertEquals(-1, gdb.read(), "the server closes the connection");
        assertEquals((byte) 0x90, target.ram[0x10002]);
        Thread.sleep(50);
        assertFalse(target.allParked(), "the guest runs on");
    }

    @Test
    void aDroppedConnectionWhileRunningLeavesNoBreakpointBehind() throws Exception {
        takeAllSlots();
        assertEquals("OK", gdb.request("Z0,10003,1"));
        gdb.send("vCont;c:1");
        assertEquals("T05thread:1;", gdb.reply());
        gdb.send("c");
        gdb.close();
        for (int i = 0; i < 100 && target.ram[0x10003] != (byte) 0x90; i++) {
            Thread.sleep(20);
        }
        assertEquals((byte) 0x90, target.ram[0x10003]);
        assertFalse(target.ended(), "the guest was not killed by its int3");
        Thread.sleep(50);
        assertFalse(target.allParked());
    }

    @Test
    void theEndOfTheVmIsTheStopReplyAndKillEndsIt() throws Exception {
        target.load(0x10004, 0xF4); // hlt: the fake VM powers off (status 1)
        gdb.send("vCont;c");
        assertEquals("W01", gdb.reply());
        assertEquals(-1, gdb.read());
    }

    @Test
    void killEndsTheVm() throws Exception {
        gdb.send("k");
        assertEquals(-1, gdb.read());
        assertTrue(target.ended());
    }

    @Test
    void anInt3TheServerDidNotPlantIsNotABreakpoint() throws Exception {
        target.load(0x10001, 0xCC); // the guest's own int3: on this host an emulation failure, fatal as ever
        assertEquals("OK", gdb.request("Z0,10003,1"));
        gdb.send("vCont;c");
        assertEquals("W04", gdb.reply(), "the VM ended as it would without a debugger");
        assertEquals(4, target.endStatus);
    }

    @Test
    void aPlantedBreakpointSetThroughOneMappingIsHitThroughAnother() throws Exception {
        takeAllSlots(); // a debug register would match the linear address only
        assertEquals("OK", gdb.request("Z0,ffffffff80010002,1"));
        gdb.send("vCont;c");
        assertEquals("T05thread:1;", gdb.reply());
        assertEquals("0200010000000000", gdb.request("p10"), "stopped at 0x10002, the same physical byte");
    }

    @Test
    void aSoftwareBreakpointInADebugRegisterIsReportedAsOneAndResumingGoesPastIt() throws Exception {
        target.load(0x10004, 0xF4); // nop x4; hlt
        byte[] before = ramCopy();
        gdb.request("qSupported:swbreak+;hwbreak+");
        assertEquals("OK", gdb.request("Z0,10001,1"));
        assertEquals("OK", gdb.request("Z0,10002,1"));
        assertTrue(Arrays.equals(before, target.ram), "nothing planted");
        assertEquals("90909090f4", gdb.request("m10000,5"));
        gdb.send("vCont;c");
        assertEquals("T05thread:1;swbreak:;", gdb.reply(), "the reply of a software breakpoint");
        assertEquals("0100010000000000", gdb.request("p10"), "rip at the breakpoint: it traps before the nop");
        gdb.send("vCont;s:1");
        assertEquals("T05thread:1;", gdb.reply(), "a step, not the breakpoint again");
        assertEquals("0200010000000000", gdb.request("p10"), "one instruction on");
        gdb.send("vCont;c");
        assertEquals("T05thread:1;swbreak:;", gdb.reply(), "stepped onto the next one, it is hit");
        assertEquals("0200010000000000", gdb.request("p10"));
        assertEquals(0L, target.cpus.get(0).state.regs.get(Registers.RFLAGS) & GdbSession.RFLAGS_RF);
        gdb.send("vCont;c");
        assertEquals("W01", gdb.reply(), "continued past it (still set) to the hlt");
    }

    @Test
    void aHardwareBreakpointTakesTheSlotOfASoftwareOneWhichIsPlantedInstead() throws Exception {
        byte[] before = ramCopy();
        gdb.request("qSupported:swbreak+;hwbreak+");
        for (String a : new String[] {"10001", "10002", "10003", "12000"}) {
            assertEquals("OK", gdb.request("Z0," + a + ",1"));
        }
        assertTrue(Arrays.equals(before, target.ram), "four in the debug registers");
        assertEquals("OK", gdb.request("Z1,13000,1"));
        assertEquals((byte) 0xCC, target.ram[0x10001], "the first gave its slot up and is planted");
        assertEquals("90909090", gdb.request("m10000,4"), "reads show the original byte");
        gdb.send("vCont;c:1");
        assertEquals("T05thread:1;swbreak:;", gdb.reply(), "the int3 (an emulation failure here)");
        assertEquals("0100010000000000", gdb.request("p10"));
        assertEquals("OK", gdb.request("z0,10001,1"));
        assertEquals((byte) 0x90, target.ram[0x10001], "unplanted");
        gdb.send("vCont;c:1");
        assertEquals("T05thread:1;swbreak:;", gdb.reply(), "the next, in its debug register");
        assertEquals("0200010000000000", gdb.request("p10"));
        for (String z : new String[] {"z0,10002,1", "z0,10003,1", "z0,12000,1", "z1,13000,1"}) {
            assertEquals("OK", gdb.request(z));
        }
        assertTrue(Arrays.equals(before, target.ram), "nothing left behind");
        gdb.send("vCont;c:1");
        Thread.sleep(50);
        assertFalse(target.allParked(), "nothing stops the guest now");
        gdb.raw("\u0003");
        assertTrue(gdb.reply().startsWith("T02thread:"));
    }
}
