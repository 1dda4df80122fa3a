package org.jbhyve.devices.storage.ahci;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.jbhyve.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SeaBIOS's src/hw/ahci.c replayed register access by register access (polling, no interrupts):
 * controller setup, port reset, link and ready waits, IDENTIFY PACKET DEVICE then IDENTIFY DEVICE
 * with its error recovery in between, READ DMA (EXT) of disk sectors and ATAPI TEST UNIT READY
 * and READ(10) as its INT 13h and El Torito code issue them.
 */
class SeaBiosAhciTest {
    // SeaBIOS's register names
    private static final int HOST_CAP = 0x00, HOST_CTL = 0x04, HOST_PORTS_IMPL = 0x0C, HOST_CTL_AHCI_EN = 1 << 31;
    private static final int PORT_LST_ADDR = 0x00, PORT_FIS_ADDR = 0x08, PORT_IRQ_STAT = 0x10, PORT_IRQ_MASK = 0x14;
    private static final int PORT_CMD = 0x18, PORT_TFDATA = 0x20, PORT_SCR_STAT = 0x28, PORT_SCR_CTL = 0x2C;
    private static final int PORT_SCR_ERR = 0x30, PORT_SCR_ACT = 0x34, PORT_CMD_ISSUE = 0x38;
    private static final int PORT_CMD_START = 1, PORT_CMD_SPIN_UP = 2, PORT_CMD_FIS_RX = 1 << 4;
    private static final int PORT_CMD_FIS_ON = 1 << 14, PORT_CMD_LIST_ON = 1 << 15;
    private static final int BSY = 0x80, DF = 0x20, DRQ = 0x08, ERR = 0x01, RDY = 0x40;

    @TempDir
    Path dir;
    private AhciFixture f;
    private GuestMemory mem;
    private boolean sawPioSetupInterrupt;

    @AfterEach
    void close() {
        f.close();
    }

    private int ctrl(int reg) {
        return f.driver.read(reg);
    }

    private void ctrl(int reg, int v) {
        f.driver.write(reg, v);
    }

    private int port(int pnr, int reg) {
        return ctrl(0x100 + pnr * 0x80 + reg);
    }

    private void port(int pnr, int reg, int v) {
        ctrl(0x100 + pnr * 0x80 + reg, v);
    }

    /** What ahci_port_s holds: the 1 KiB list, 256-byte FIS area and 256-byte command table. */
    private record SeaPort(int pnr, long list, long fis, long cmd) {}

    private SeaPort alloc(int pnr) {
        SeaPort p = new SeaPort(pnr, f.guest.alloc(1024, 1024), f.guest.alloc(256, 256), f.guest.alloc(256, 256));
        port(pnr, PORT_LST_ADDR, (int) p.list());
        port(pnr, PORT_FIS_ADDR, (int) p.fis());
        return p;
    }

    private void portReset(int pnr) {
        for (int i = 0; ; i++) {
            int val = port(pnr, PORT_CMD);
            if ((val & (PORT_CMD_FIS_RX | PORT_CMD_START | PORT_CMD_FIS_ON | PORT_CMD_LIST_ON)) == 0) {
                break;
            }
            assertTrue(i < 1000, "port did not stop");
            port(pnr, PORT_CMD, val & ~(PORT_CMD_FIS_RX | PORT_CMD_START));
        }
        port(pnr, PORT_IRQ_MASK, 0);
        int val = port(pnr, PORT_IRQ_STAT);
        if (val != 0) {
            port(pnr, PORT_IRQ_STAT, val);
        }
    }

    private void simpleFis(SeaPort p, int command) {
        mem.write(p.cmd(), new byte[64]);
        mem.putByte(p.cmd() + 2, (byte) command);
    }

    /** ahci_command(): one PRD of {@code bsize} bytes at {@code buffer}, poll PxIS, recover on error. */
    private boolean command(SeaPort p, boolean write, boolean atapi, long buffer, int bsize) {
        int pnr = p.pnr();
        mem.putByte(p.cmd(), (byte) 0x27);
        mem.putByte(p.cmd() + 1, (byte) 0x80);
        mem.putInt(p.cmd() + 0x80, (int) buffer);
        mem.putInt(p.cmd() + 0x84, 0);
        mem.putInt(p.cmd() + 0x8C, bsize - 1);
        mem.putInt(p.list(), 1 << 16 | (write ? 1 << 6 : 0) | (atapi ? 1 << 5 : 0) | 5);
        mem.putInt(p.list() + 4, 0);
        mem.putInt(p.list() + 8, (int) p.cmd());
        mem.putInt(p.list() + 12, 0);
        int intbits = port(pnr, PORT_IRQ_STAT);
        if (intbits != 0) {
            port(pnr, PORT_IRQ_STAT, intbits);
        }
        port(pnr, PORT_SCR_ACT, 1);
        port(pnr, PORT_CMD_ISSUE, 1);
        int status;
        long end = System.nanoTime() + 10_000_000_000L;
        do {
            for (;;) {
                intbits = port(pnr, PORT_IRQ_STAT);
                if (intbits != 0) {
                    port(pnr, PORT_IRQ_STAT, intbits);
                    if ((intbits & 0x02) != 0) {
                        sawPioSetupInterrupt = true;
                        status = mem.getByte(p.fis() + 0x20 + 2) & 0xFF;
                        break;
                    }
                    if ((intbits & 0x01) != 0) {
                        status = mem.getByte(p.fis() + 0x40 + 2) & 0xFF;
                        break;
                    }
                }
                assertTrue(System.nanoTime() < end, "ahci_command timed out");
                Thread.onSpinWait();
            }
        } while ((status & BSY) != 0);
        boolean success = (status & (BSY | DF | ERR)) == 0 && (status & RDY) == RDY;
        if (!success) {
            int val = port(pnr, PORT_CMD);
            port(pnr, PORT_CMD, val & ~PORT_CMD_START);
            while ((port(pnr, PORT_CMD) & PORT_CMD_LIST_ON) != 0) {
                Thread.onSpinWait();
            }
            port(pnr, PORT_SCR_ERR, port(pnr, PORT_SCR_ERR));
            port(pnr, PORT_IRQ_STAT, port(pnr, PORT_IRQ_STAT));
            if ((port(pnr, PORT_TFDATA) & (BSY | DRQ)) != 0) {
                int sctl = port(pnr, PORT_SCR_CTL);
                port(pnr, PORT_SCR_CTL, sctl | 1);
                port(pnr, PORT_SCR_CTL, sctl);
            }
            port(pnr, PORT_CMD, port(pnr, PORT_CMD) | PORT_CMD_START);
        }
        return success;
    }

    /** ahci_port_setup(): returns the IDENTIFY buffer and whether the port is ATAPI, or null. */
    private Object[] setup(SeaPort p) {
        int pnr = p.pnr();
        int cmd = port(pnr, PORT_CMD) | PORT_CMD_FIS_RX;
        port(pnr, PORT_CMD, cmd);
        cmd |= PORT_CMD_SPIN_UP;
        port(pnr, PORT_CMD, cmd);
        if ((port(pnr, PORT_SCR_STAT) & 7) != 3) {
            return null;                                           // "link down"
        }
        int err = port(pnr, PORT_SCR_ERR);
        if (err != 0) {
            port(pnr, PORT_SCR_ERR, err);
        }
        assertEquals(0, port(pnr, PORT_TFDATA) & (BSY | DRQ), "device ready");
        cmd |= PORT_CMD_START;
        port(pnr, PORT_CMD, cmd);
        long buffer = f.guest.alloc(512, 2);
        simpleFis(p, 0xA1);
        boolean atapi = command(p, false, false, buffer, 512);
        if (!atapi) {
            simpleFis(p, 0xEC);
            assertTrue(command(p, false, false, buffer, 512), "IDENTIFY DEVICE");
        }
        return new Object[] {mem.read(buffer, 512), atapi};
    }

    /** ahci_port_realloc(): reset, new structures, FIS receive and start on. */
    private SeaPort realloc(SeaPort old) {
        portReset(old.pnr());
        SeaPort p = alloc(old.pnr());
        port(p.pnr(), PORT_CMD, port(p.pnr(), PORT_CMD) | PORT_CMD_FIS_RX | PORT_CMD_START);
        return p;
    }

    private static int word(byte[] b, int w) {
        return (b[2 * w] & 0xFF) | (b[2 * w + 1] & 0xFF) << 8;
    }

    /** sata_prep_readwrite() + ahci_command(): READ DMA, or READ DMA EXT for big or high requests. */
    private boolean readSectors(SeaPort p, long lba, int count, long buffer) {
        long c = p.cmd();
        mem.write(c, new byte[64]);
        int command = 0xC8;
        if (count >= 256 || lba + count >= 1 << 28) {
            mem.putByte(c + 13, (byte) (count >> 8));
            mem.putByte(c + 8, (byte) (lba >> 24));
            mem.putByte(c + 9, (byte) (lba >> 32));
            mem.putByte(c + 10, (byte) (lba >> 40));
            lba &= 0xFFFFFF;
            command = 0x25;
        }
        mem.putByte(c + 3, (byte) 1);
        mem.putByte(c + 2, (byte) command);
        mem.putByte(c + 12, (byte) count);
        mem.putByte(c + 4, (byte) lba);
        mem.putByte(c + 5, (byte) (lba >> 8));
        mem.putByte(c + 6, (byte) (lba >> 16));
        mem.putByte(c + 7, (byte) (((lba >> 24) & 0xF) | 0x40));
        return command(p, false, false, buffer, count * 512);
    }

    /** ahci_cmd_data(): a PACKET command with a 12-byte CDB and {@code count} blocks of {@code blocksize}. */
    private boolean atapi(SeaPort p, byte[] cdb, int count, int blocksize, long buffer) {
        long c = p.cmd();
        mem.write(c, new byte[64]);
        mem.putByte(c + 2, (byte) 0xA0);
        mem.putByte(c + 3, (byte) 1);
        mem.putByte(c + 5, (byte) blocksize);
        mem.putByte(c + 6, (byte) (blocksize >> 8));
        mem.write(c + 0x40, Arrays.copyOf(cdb, 12));
        return command(p, false, true, buffer, count * blocksize);
    }

    @Test
    void seabiosFindsTheDiskAndTheCdAndReadsFromBoth() throws Exception {
        f = new AhciFixture(dir, 16 << 20);
        Path disk = f.disk("disk.img", 4 << 20);
        f.start(Map.of(0, AhciFixture.hd(disk), 2, AhciFixture.cd(f.iso("boot.iso", 64))));
        mem = f.guest.memory;

        ctrl(HOST_CTL, ctrl(HOST_CTL) | HOST_CTL_AHCI_EN);
        int caps = ctrl(HOST_CAP);
        int ports = ctrl(HOST_PORTS_IMPL);
        assertEquals(0b101, ports);
        SeaPort hd = null;
        SeaPort cd = null;
        for (int pnr = 0; pnr <= (caps & 0x1F); pnr++) {
            if ((ports & 1 << pnr) == 0) {
                continue;
            }
            SeaPort p = alloc(pnr);
            portReset(pnr);
            Object[] found = setup(p);
            assertNotNull(found, "link up on port " + pnr);
            byte[] id = (byte[]) found[0];
            if ((boolean) found[1]) {
                assertEquals(2, pnr);
                assertEquals(5, word(id, 0) >> 8 & 0x1F, "iscd");
                cd = realloc(p);
            } else {
                assertEquals(0, pnr);
                assertTrue((word(id, 83) & 1 << 10) != 0, "lba48");
                long sectors = word(id, 100) | (long) word(id, 101) << 16;
                assertEquals((4 << 20) / 512, sectors);
                hd = realloc(p);
            }
        }
        assertNotNull(hd);
        assertNotNull(cd);

        byte[] image = Files.readAllBytes(disk);
        long buf = f.guest.alloc(300 * 512, 2);
        assertTrue(readSectors(hd, 5, 1, buf), "READ DMA");
        assertArrayEquals(Arrays.copyOfRange(image, 5 * 512, 6 * 512), mem.read(buf, 512));
        assertTrue(readSectors(hd, 1000, 300, buf), "READ DMA EXT");
        assertArrayEquals(Arrays.copyOfRange(image, 1000 * 512, 1300 * 512), mem.read(buf, 300 * 512));
        assertFalse(readSectors(hd, 8191, 2, buf), "past the end fails");
        assertTrue(readSectors(hd, 8191, 1, buf), "and the port recovered");

        // scsi_is_ready(): TEST UNIT READY with no buffer (count 0: bsize - 1 = 0xFFFFFFFF at address 0)
        assertTrue(atapi(cd, new byte[] {0x00}, 0, 0, 0));
        byte[] read10 = {0x28, 0, 0, 0, 0, 0x11, 0, 0, 1};
        long sector = f.guest.alloc(2048, 2);
        assertTrue(atapi(cd, read10, 1, 2048, sector), "READ(10) of the boot record");
        assertEquals(0x11, mem.getByte(sector));
        byte[] sense = {0x03, 0, 0, 0, 18};
        assertTrue(atapi(cd, sense, 1, 18, sector));
        assertEquals(0x70, mem.getByte(sector) & 0x7F);
        assertFalse(sawPioSetupInterrupt, "SeaBIOS would take its status from the PIO Setup FIS");
    }
}
