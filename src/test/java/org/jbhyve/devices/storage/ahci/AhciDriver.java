package org.jbhyve.devices.storage.ahci;

import java.util.concurrent.TimeUnit;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.virtio.MockGuest;

/**
 * A host-side AHCI driver for tests and benchmarks: it lays out command lists, FIS areas and
 * command tables in a {@link MockGuest}'s RAM and drives the controller through its ABAR the way
 * Linux's ahci and SeaBIOS's ahci.c do, with no guest CPU.
 */
public final class AhciDriver {
    public static final int TABLE_SIZE = 0x80 + 16 * 64;   // room for 64 PRDT entries

    public final AhciController hba;
    public final MockGuest guest;
    private final IoHandler abar;

    public AhciDriver(AhciController hba, MockGuest guest) {
        this.hba = hba;
        this.guest = guest;
        this.abar = hba.bars().getFirst().handler();
        hba.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY | PciConfigSpace.COMMAND_BUS_MASTER);
    }

    public int read(int offset) {
        return (int) abar.read(offset, 4);
    }

    public void write(int offset, int value) {
        abar.write(offset, 4, Integer.toUnsignedLong(value));
    }

    public Port port(int n) {
        return new Port(n);
    }

    /**
     * Port {@code layout.n} of this driver's controller over the command list, FIS area and
     * tables {@code layout} (of another driver) laid out in guest RAM: after a snapshot is
     * restored into a new controller, the guest's structures are where they were.
     */
    public Port port(Port layout) {
        return new Port(layout);
    }

    /** A PRDT entry: {@code bytes} at guest address {@code address}. */
    public record Prd(long address, int bytes) {}

    /** A register host-to-device command FIS. */
    public static byte[] fis(int command, int features, long lba, int count, int device) {
        byte[] f = new byte[20];
        f[0] = 0x27;
        f[1] = (byte) 0x80;
        f[2] = (byte) command;
        f[3] = (byte) features;
        f[4] = (byte) lba;
        f[5] = (byte) (lba >>> 8);
        f[6] = (byte) (lba >>> 16);
        f[7] = (byte) device;
        f[8] = (byte) (lba >>> 24);
        f[9] = (byte) (lba >>> 32);
        f[10] = (byte) (lba >>> 40);
        f[11] = (byte) (features >>> 8);
        f[12] = (byte) count;
        f[13] = (byte) (count >>> 8);
        return f;
    }

    /** One port: its command list, FIS area and a command table per slot in guest RAM. */
    public final class Port {
        public final int n;
        public final long list, fisArea;
        public final long[] tables = new long[32];

        Port(int n) {
            this.n = n;
            this.list = guest.alloc(1024, 1024);
            this.fisArea = guest.alloc(256, 256);
            for (int i = 0; i < 32; i++) {
                tables[i] = guest.alloc(TABLE_SIZE, 128);
            }
        }

        Port(Port layout) {
            this.n = layout.n;
            this.list = layout.list;
            this.fisArea = layout.fisArea;
            System.arraycopy(layout.tables, 0, tables, 0, tables.length);
        }

        public int reg(int offset) {
            return read(0x100 + 0x80 * n + offset);
        }

        public void reg(int offset, int value) {
            write(0x100 + 0x80 * n + offset, value);
        }

        /** Stops the list and FIS receive, points the port at our structures, starts both. */
        public void start() {
            reg(AhciPort.CMD, reg(AhciPort.CMD) & ~(AhciPort.CMD_ST | AhciPort.CMD_FRE));
            reg(AhciPort.CLB, (int) list);
            reg(AhciPort.CLBU, (int) (list >>> 32));
            reg(AhciPort.FB, (int) fisArea);
            reg(AhciPort.FBU, (int) (fisArea >>> 32));
            reg(AhciPort.SERR, -1);
            reg(AhciPort.IS, -1);
            reg(AhciPort.CMD, reg(AhciPort.CMD) | AhciPort.CMD_FRE | AhciPort.CMD_SUD);
            reg(AhciPort.CMD, reg(AhciPort.CMD) | AhciPort.CMD_ST);
        }

        /** Writes slot {@code slot}'s header and table: the FIS, an optional ATAPI packet, the PRDT. */
        public void prepare(int slot, byte[] fis, byte[] cdb, boolean write, Prd... prds) {
            long t = tables[slot];
            guest.ram.asSlice(t, TABLE_SIZE).fill((byte) 0);
            guest.memory.write(t, fis);
            if (cdb != null) {
                guest.memory.write(t + 0x40, cdb);
            }
            for (int i = 0; i < prds.length; i++) {
                guest.memory.putLong(t + 0x80 + 16L * i, prds[i].address());
                guest.memory.putInt(t + 0x80 + 16L * i + 12, prds[i].bytes() - 1);
            }
            long h = list + 32L * slot;
            int flags = 5 | (cdb != null ? 1 << 5 : 0) | (write ? 1 << 6 : 0) | prds.length << 16;
            guest.memory.putInt(h, flags);
            guest.memory.putInt(h + 4, 0);
            guest.memory.putLong(h + 8, t);
        }

        /** Issues slot {@code slot} (non-queued) and waits for its CI bit or an error. */
        public int run(int slot, byte[] fis, byte[] cdb, boolean write, Prd... prds) {
            prepare(slot, fis, cdb, write, prds);
            reg(AhciPort.IS, reg(AhciPort.IS));
            reg(AhciPort.CI, 1 << slot);
            return waitDone(slot);
        }

        /** Waits until slot's CI bit clears or PxIS.TFES is set; returns the status byte of PxTFD. */
        public int waitDone(int slot) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((reg(AhciPort.CI) & 1 << slot) != 0 && (reg(AhciPort.IS) & AhciPort.IS_TFES) == 0) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("port " + n + " slot " + slot + " did not complete");
                }
                Thread.onSpinWait();
            }
            return reg(AhciPort.TFD) & 0xFF;
        }

        /** Waits until none of {@code mask} is in PxSACT (or TFES); returns the bits still set. */
        public int waitQueued(int mask) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((reg(AhciPort.SACT) & mask) != 0 && (reg(AhciPort.IS) & AhciPort.IS_TFES) == 0) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("queued commands " + Integer.toHexString(reg(AhciPort.SACT)) + " stuck");
                }
                Thread.onSpinWait();
            }
            return reg(AhciPort.SACT) & mask;
        }

        /** The received D2H register FIS (20 bytes). */
        public byte[] d2h() {
            return guest.memory.read(fisArea + 0x40, 20);
        }

        public byte[] sdb() {
            return guest.memory.read(fisArea + 0x58, 8);
        }

        public byte[] pioSetup() {
            return guest.memory.read(fisArea + 0x20, 20);
        }

        /** Bytes transferred (PRDBC) of slot {@code slot}. */
        public int transferred(int slot) {
            return guest.memory.getInt(list + 32L * slot + 4);
        }

        /** SeaBIOS's and AHCI 6.2.2.1's recovery: ST off, wait CR, clear SERR and IS, ST on. */
        public void recover() {
            reg(AhciPort.CMD, reg(AhciPort.CMD) & ~AhciPort.CMD_ST);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((reg(AhciPort.CMD) & AhciPort.CMD_CR) != 0) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("CR stuck");
                }
                Thread.onSpinWait();
            }
            reg(AhciPort.SERR, reg(AhciPort.SERR));
            reg(AhciPort.IS, reg(AhciPort.IS));
            reg(AhciPort.CMD, reg(AhciPort.CMD) | AhciPort.CMD_ST);
        }
    }
}
