package org.jbhyve.devices.storage.ahci;

import static org.jbhyve.devices.storage.ahci.AhciPort.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HBA through its config space and ABAR: identity, reset values, signatures, interrupts. */
class AhciControllerTest {
    private static final int IDENTIFY = 0xEC;
    @TempDir
    Path dir;
    private AhciFixture f;

    @AfterEach
    void close() {
        f.close();
    }

    private AhciFixture diskAndCd() throws Exception {
        f = new AhciFixture(dir, 4 << 20);
        return f.start(Map.of(0, AhciFixture.hd(f.disk("d.img", 1 << 20)), 1, AhciFixture.cd(f.iso("c.iso", 64))));
    }

    /** Runs IDENTIFY on port 0 without waiting for anything but the completion. */
    private void identify(AhciDriver.Port p) {
        long buf = f.guest.alloc(512, 2);
        p.run(0, AhciDriver.fis(IDENTIFY, 0, 0, 0, 0), null, false, new AhciDriver.Prd(buf, 512));
    }

    @Test
    void pciFunctionIsAnIch8AhciControllerWithAbarInBar5AndMsi() throws Exception {
        AhciController hba = diskAndCd().hba;
        PciConfigSpace c = hba.config();
        assertEquals(0x8086, c.get16(PciConfigSpace.VENDOR));
        assertEquals(0x2821, c.get16(PciConfigSpace.DEVICE));
        assertEquals(0x01, c.get8(0x0B));
        assertEquals(0x06, c.get8(0x0A));
        assertEquals(0x01, c.get8(PciConfigSpace.PROG_IF));
        assertEquals(1, c.get8(PciConfigSpace.INTERRUPT_PIN));
        PciBar bar = hba.bars().getFirst();
        assertEquals(1, hba.bars().size());
        assertEquals(5, bar.index());
        assertEquals(PciBar.Kind.MEMORY32, bar.kind());
        assertEquals(0x400, bar.size());                       // 0x100 + 6 ports * 0x80
        int cap = c.get8(PciConfigSpace.CAPABILITIES);
        assertEquals(0x05, c.get8(cap));
        assertEquals(0x80, c.get16(cap + 2));                  // 64-bit, one message, disabled
    }

    @Test
    void hostRegistersDescribeSixPortsThirtyTwoSlotsNcqAndTheDrives() throws Exception {
        AhciDriver d = diskAndCd().driver;
        int cap = d.read(AhciController.CAP);
        assertEquals(5, cap & 0x1F);
        assertEquals(31, cap >>> 8 & 0x1F);
        assertTrue((cap & 1 << 30) != 0, "NCQ");
        assertTrue((cap & 1 << 31) != 0, "64-bit addressing");
        assertTrue((cap & 1 << 24) != 0, "command list override");
        assertEquals(0b11, d.read(AhciController.PI));
        assertEquals(0x00010300, d.read(AhciController.VS));
        assertEquals(0x80000000, d.read(AhciController.GHC));
        assertEquals(0, d.read(AhciController.IS));
        assertEquals(0x01, d.hba.bars().getFirst().handler().read(AhciController.VS + 2, 1));
        assertEquals(0x0300, d.hba.bars().getFirst().handler().read(AhciController.VS, 2));
    }

    @Test
    void aDriveOnAHighPortWidensTheControllerAndOnlyDrivesAreImplemented() throws Exception {
        f = new AhciFixture(dir, 1 << 20);
        f.start(Map.of(9, AhciFixture.hd(f.disk("d.img", 1 << 16))));
        assertEquals(9, f.driver.read(AhciController.CAP) & 0x1F);
        assertEquals(1 << 9, f.driver.read(AhciController.PI));
        assertEquals(0x800, f.hba.bars().getFirst().size());
        assertEquals(SIG_ATA, f.driver.port(9).reg(SIG));
        assertEquals(SIG_NONE, f.driver.port(0).reg(SIG));
        assertEquals(0, f.driver.read(0x100 + 0x80 * 10 + SIG), "beyond the last port reads 0");
    }

    @Test
    void signaturesAndLinkStateAfterReset() throws Exception {
        AhciDriver d = diskAndCd().driver;
        assertEquals(0x00000101, d.port(0).reg(SIG));
        assertEquals(0xEB140101, d.port(1).reg(SIG));
        assertEquals(0xFFFFFFFF, d.port(2).reg(SIG));
        assertEquals(0x133, d.port(0).reg(SSTS));              // device present, Gen3, active
        assertEquals(0x133, d.port(1).reg(SSTS));
        assertEquals(0, d.port(2).reg(SSTS));                  // no device
        assertEquals(0x170, d.port(0).reg(TFD));               // DRDY | DF/DMA | DSC, error 1
        assertEquals(0x130, d.port(1).reg(TFD));               // a packet device is not DRDY
        assertEquals(0x7F, d.port(2).reg(TFD));
        assertEquals(CMD_SUD | CMD_POD | CMD_CPS, d.port(0).reg(CMD));
        assertEquals(CMD_SUD | CMD_POD, d.port(2).reg(CMD));
    }

    @Test
    void comresetPostsTheSignatureFisAndSpeedLimitsShowInSStatus() throws Exception {
        AhciDriver d = diskAndCd().driver;
        AhciDriver.Port cd = d.port(1);
        cd.reg(FB, (int) cd.fisArea);
        cd.reg(CMD, cd.reg(CMD) | CMD_FRE);
        cd.reg(SCTL, 0x21);                                    // DET = 1, speed limited to Gen2
        cd.reg(SCTL, 0x20);
        byte[] fis = cd.d2h();
        assertEquals(0x34, fis[0] & 0xFF);
        assertEquals(1, fis[12]);
        assertEquals(1, fis[4]);
        assertEquals(0x14, fis[5]);
        assertEquals(0xEB, fis[6] & 0xFF);
        assertEquals(0x123, cd.reg(SSTS));
    }

    @Test
    void runningBitsFollowStartAndFisReceive() throws Exception {
        AhciDriver.Port p = diskAndCd().driver.port(0);
        p.start();
        assertEquals(CMD_CR | CMD_FR, p.reg(CMD) & (CMD_CR | CMD_FR));
        p.reg(CMD, p.reg(CMD) & ~(CMD_ST | CMD_FRE));
        assertEquals(0, p.reg(CMD) & (CMD_CR | CMD_FR | CMD_ST | CMD_FRE));
    }

    @Test
    void hbaResetClearsInterruptsAndPortState() throws Exception {
        AhciDriver d = diskAndCd().driver;
        AhciDriver.Port p = d.port(0);
        p.start();
        p.reg(IE, -1);
        d.write(AhciController.GHC, AhciController.GHC_AE | AhciController.GHC_IE);
        identify(p);
        assertTrue(f.line());
        d.write(AhciController.GHC, AhciController.GHC_HR);
        assertEquals(0x80000000, d.read(AhciController.GHC));
        assertEquals(0, d.read(AhciController.IS));
        assertEquals(0, p.reg(IE));
        assertEquals(0, p.reg(IS));
        assertEquals(CMD_SUD | CMD_POD | CMD_CPS, p.reg(CMD));
        assertFalse(f.line());
    }

    @Test
    void intxFollowsIsUntilTheGuestClearsItAfterThePortBits() throws Exception {
        AhciDriver d = diskAndCd().driver;
        AhciDriver.Port p = d.port(0);
        p.start();
        p.reg(IE, IS_DHRS | IS_TFES);
        identify(p);
        assertEquals(IS_DHRS, p.reg(IS));
        assertEquals(1, d.read(AhciController.IS), "IS shows the port even with GHC.IE off");
        assertFalse(f.line(), "GHC.IE off: no interrupt");
        d.write(AhciController.GHC, AhciController.GHC_IE);
        assertTrue(f.line());
        assertTrue((f.hba.config().get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_INTERRUPT) != 0);

        d.write(AhciController.IS, 1);                         // IS first: the port still asks
        assertEquals(1, d.read(AhciController.IS));
        assertTrue(f.line());
        p.reg(IS, IS_DHRS);                                    // PxIS: IS stays until written
        assertEquals(0, p.reg(IS));
        assertEquals(1, d.read(AhciController.IS));
        assertTrue(f.line());
        d.write(AhciController.IS, 1);
        assertEquals(0, d.read(AhciController.IS));
        assertFalse(f.line());
        assertEquals(0, f.hba.config().get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_INTERRUPT);
    }

    @Test
    void disabledPortInterruptsDoNotReachIsAndIntxDisableHoldsThePin() throws Exception {
        AhciDriver d = diskAndCd().driver;
        AhciDriver.Port p = d.port(0);
        p.start();
        d.write(AhciController.GHC, AhciController.GHC_IE);
        identify(p);
        assertEquals(IS_DHRS, p.reg(IS), "the event is recorded");
        assertEquals(0, d.read(AhciController.IS), "but PxIE masks it");
        assertFalse(f.line());
        f.hba.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY | PciConfigSpace.COMMAND_INTX_DISABLE);
        p.reg(IE, IS_DHRS);                                    // enabling it later raises IS
        assertEquals(1, d.read(AhciController.IS));
        assertFalse(f.line(), "INTx disabled in the command register");
        f.hba.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        assertTrue(f.line());
    }

    @Test
    void msiSendsOneMessagePerNewIsBitAndAgainWhenClearedWhilePending() throws Exception {
        AhciDriver d = diskAndCd().driver;
        PciConfigSpace c = f.hba.config();
        int cap = c.get8(PciConfigSpace.CAPABILITIES);
        f.hba.configWrite(cap + 4, 4, 0xFEE01000L);
        f.hba.configWrite(cap + 8, 4, 0);
        f.hba.configWrite(cap + 12, 2, 0x4031);
        f.hba.configWrite(cap + 2, 2, 1);
        assertEquals(0x81, c.get16(cap + 2));
        AhciDriver.Port p = d.port(0);
        p.start();
        p.reg(IE, IS_DHRS);
        d.write(AhciController.GHC, AhciController.GHC_IE);
        identify(p);
        assertEquals(1, f.guest.msiCount.get());
        assertEquals(0xFEE01000L, f.guest.lastMsiAddress);
        assertEquals(0x4031, f.guest.lastMsiData);
        assertFalse(f.line(), "no INTx while MSI is on");

        identify(p);                                           // IS still set: shares the message
        assertEquals(1, f.guest.msiCount.get());
        d.write(AhciController.IS, 1);                         // PxIS still set: send again
        assertEquals(2, f.guest.msiCount.get());
        p.reg(IS, -1);
        d.write(AhciController.IS, 1);                         // nothing pending: silence
        assertEquals(2, f.guest.msiCount.get());
        identify(p);
        assertEquals(3, f.guest.msiCount.get());

        p.reg(IS, -1);
        d.write(AhciController.IS, 1);
        f.hba.configWrite(cap + 2, 2, 0);                      // MSI off: back to INTx
        identify(p);
        assertEquals(3, f.guest.msiCount.get());
        assertTrue(f.line());
    }

    @Test
    void unalignedAndNarrowWritesAreIgnoredNarrowReadsWork() throws Exception {
        AhciDriver d = diskAndCd().driver;
        AhciDriver.Port p = d.port(0);
        var abar = f.hba.bars().getFirst().handler();
        abar.write(0x100 + IE, 2, 0xFFFF);
        abar.write(0x100 + IE + 1, 4, 0xFFFFFFFFL);
        assertEquals(0, p.reg(IE));
        assertEquals(0x01, abar.read(0x100 + SIG, 1));
        assertEquals(0x0101, abar.read(0x100 + SIG, 2));
        assertEquals(0x14, abar.read(0x180 + SIG + 2, 1));
        p.reg(IE, -1);
        assertEquals(IE_WRITABLE, p.reg(IE));
    }
}
