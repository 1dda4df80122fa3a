package org.jbhyve.devices.storage.ahci;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.memory.GuestMemory;

/**
 * One command the guest issued in a command slot (AHCI 1.3, 4.2.2-4.2.3).
 *
 * <pre>
 * command header, 32 bytes at CLB + 32 * slot:
 *   DW0  bits 4:0 CFL (FIS length, dwords)  5 A (ATAPI)  6 W (write)  7 P  8 R (reset)  10 C
 *        bits 31:16 PRDTL (PRDT entries)
 *   DW1  PRDBC: bytes transferred, written by the HBA
 *   DW2  CTBA (128-byte aligned)  DW3 CTBAU
 * command table at CTBA: 0x00 CFIS (64 bytes)  0x40 ACMD (ATAPI CDB, 16 bytes)  0x80 PRDT
 * PRDT entry, 16 bytes: DW0 DBA (bit 0 reserved)  DW1 DBAU  DW2 reserved
 *                       DW3 bits 21:0 DBC (byte count - 1, up to 4 MiB)  bit 31 I
 * </pre>
 * The header, the FIS and the CDB are copied when the command is issued, so a guest that
 * rewrites its table meanwhile changes nothing. The PRDT is walked only for the bytes a transfer
 * needs; every entry must lie in guest RAM, and a table that is too short or points outside RAM
 * makes the caller fail the command (it never throws).
 *
 * <p>Completion goes through the port under the controller lock, from the vCPU thread that
 * issued the command or from a backend worker.
 */
final class AhciCommand {
    static final int HEADER_SIZE = 32, FIS_SIZE = 64, CDB_AT = 0x40, CDB_SIZE = 16, PRDT_AT = 0x80, PRD_SIZE = 16;
    static final int MAX_PRD_BYTES = 1 << 22;
    static final int MAX_PRD_ENTRIES = 0xFFFF;
    static final int HEADER_ATAPI = 1 << 5, HEADER_WRITE = 1 << 6;

    private final AhciPort port;
    private final GuestMemory memory;
    private final int slot;
    private final int generation;
    private final long headerAddress;
    private final int flags;
    private final int prdtl;
    private final long table;
    private final byte[] fis;
    private final byte[] cdb;
    // Results, set by the device before it completes the command (guarded by the controller lock).
    boolean accepted;
    int transferred = -1;
    boolean pioIn;
    int resultCount = -1;

    private AhciCommand(AhciPort port, GuestMemory memory, int slot, int generation, long headerAddress, int flags,
                        int prdtl, long table, byte[] fis, byte[] cdb) {
        this.port = port;
        this.memory = memory;
        this.slot = slot;
        this.generation = generation;
        this.headerAddress = headerAddress;
        this.flags = flags;
        this.prdtl = prdtl;
        this.table = table;
        this.fis = fis;
        this.cdb = cdb;
    }

    /**
     * Reads the header at {@code headerAddress} and its command table; null when either is not in
     * guest RAM (the port then reports a host bus error).
     */
    static AhciCommand read(AhciPort port, GuestMemory memory, int slot, int generation, long headerAddress) {
        if (!memory.contains(headerAddress, HEADER_SIZE)) {
            return null;
        }
        MemorySegment h = memory.slice(headerAddress, HEADER_SIZE);
        int dw0 = h.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        long table = (Integer.toUnsignedLong(h.get(ValueLayout.JAVA_INT_UNALIGNED, 8)) & ~0x7FL)
                | (long) h.get(ValueLayout.JAVA_INT_UNALIGNED, 12) << 32;
        int prdtl = dw0 >>> 16;
        if (!memory.contains(table, PRDT_AT + (long) prdtl * PRD_SIZE)) {
            return null;
        }
        byte[] fis = memory.read(table, FIS_SIZE);
        byte[] cdb = memory.read(table + CDB_AT, CDB_SIZE);
        return new AhciCommand(port, memory, slot, generation, headerAddress, dw0 & 0xFFFF, prdtl, table, fis, cdb);
    }

    AhciPort port() {
        return port;
    }

    int slot() {
        return slot;
    }

    int generation() {
        return generation;
    }

    long headerAddress() {
        return headerAddress;
    }

    int prdtLength() {
        return prdtl;
    }

    boolean headerWrite() {
        return (flags & HEADER_WRITE) != 0;
    }

    // ------------------------------------------------------------ command FIS fields

    int fisType() {
        return fis[0] & 0xFF;
    }

    boolean isCommand() {
        return (fis[1] & Fis.FLAG_COMMAND) != 0;
    }

    int command() {
        return fis[2] & 0xFF;
    }

    int fisByte(int i) {
        return fis[i] & 0xFF;
    }

    /** Features 15:0 (FIS bytes 3 and 11): the sector count of NCQ commands. */
    int features() {
        return fisByte(3) | fisByte(11) << 8;
    }

    /** Count 15:0 (FIS bytes 12 and 13). */
    int count() {
        return fisByte(12) | fisByte(13) << 8;
    }

    /** The 28-bit LBA: device bits 3:0 over LBA 23:0. */
    long lba28() {
        return (long) (fisByte(7) & 0xF) << 24 | fisByte(6) << 16 | fisByte(5) << 8 | fisByte(4);
    }

    /** The 48-bit LBA. */
    long lba48() {
        return (long) fisByte(10) << 40 | (long) fisByte(9) << 32 | (long) fisByte(8) << 24
                | fisByte(6) << 16 | fisByte(5) << 8 | fisByte(4);
    }

    /** The device control byte (SRST is bit 2). */
    int control() {
        return fisByte(15);
    }

    /** FIS bytes 4-13, echoed in the D2H FIS that completes the command. */
    byte[] registers() {
        byte[] r = new byte[10];
        System.arraycopy(fis, 4, r, 0, 10);
        return r;
    }

    /** FIS bytes 4-19, kept in the NCQ command error log. */
    byte[] errorRegisters() {
        byte[] r = new byte[16];
        System.arraycopy(fis, 4, r, 0, 16);
        return r;
    }

    /** A copy of the ATAPI command packet. */
    byte[] cdb() {
        return cdb.clone();
    }

    int cdbByte(int i) {
        return cdb[i] & 0xFF;
    }

    // ------------------------------------------------------------ PRDT

    private long entryAddress(int i) {
        return table + PRDT_AT + (long) i * PRD_SIZE;
    }

    private long dataAddress(int i) {
        long at = entryAddress(i);
        return (Integer.toUnsignedLong(memory.getInt(at)) & ~1L) | (long) memory.getInt(at + 4) << 32;
    }

    private int dataBytes(int i) {
        return (memory.getInt(entryAddress(i) + 12) & (MAX_PRD_BYTES - 1)) + 1;
    }

    /**
     * The guest buffers for the first {@code length} bytes of the PRDT, in order, as slices of
     * guest RAM (the DMA windows); null when the table describes fewer bytes or an entry needed
     * lies outside RAM. Zero bytes need no table.
     */
    MemorySegment[] buffers(long length) {
        List<MemorySegment> out = new ArrayList<>(Math.min(prdtl, 16));
        long left = length;
        for (int i = 0; i < prdtl && left > 0; i++) {
            long address = dataAddress(i);
            long take = Math.min(left, dataBytes(i));
            if (!memory.contains(address, take)) {
                return null;
            }
            out.add(memory.slice(address, take));
            left -= take;
        }
        return left > 0 ? null : out.toArray(MemorySegment[]::new);
    }

    /**
     * Copies the first {@code length} bytes of {@code data} to the guest through the PRDT (a
     * device-to-host transfer), stopping where the table ends; returns the bytes copied, or -1
     * if an entry needed lies outside RAM.
     */
    int copyOut(byte[] data, int length) {
        int done = 0;
        for (int i = 0; i < prdtl && done < length; i++) {
            long address = dataAddress(i);
            int take = Math.min(length - done, dataBytes(i));
            if (!memory.contains(address, take)) {
                return -1;
            }
            MemorySegment.copy(data, done, memory.slice(address, take), ValueLayout.JAVA_BYTE, 0, take);
            done += take;
        }
        return done;
    }

    /**
     * Gathers {@code length} bytes from the guest through the PRDT (a host-to-device transfer);
     * null if the table is shorter or an entry needed lies outside RAM.
     */
    byte[] copyIn(int length) {
        MemorySegment[] parts = buffers(length);
        if (parts == null) {
            return null;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (MemorySegment s : parts) {
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, out, at, (int) s.byteSize());
            at += (int) s.byteSize();
        }
        return out;
    }

    // ------------------------------------------------------------ completion

    /**
     * NCQ: the device has queued the command; the port clears its CI bit and BSY with a D2H
     * FIS that does not interrupt, and the command later completes through a Set Device Bits FIS.
     */
    void accept() {
        synchronized (port.lock()) {
            port.accept(this);
        }
    }

    /**
     * Completes the command with {@code status} and {@code error} (see {@link Fis}); from any
     * thread (it takes the controller lock).
     */
    void complete(int status, int error) {
        synchronized (port.lock()) {
            port.complete(this, status, error);
        }
    }

    /** Completes the command well. */
    void succeed() {
        complete(Fis.GOOD, 0);
    }

    /** Completes the command as aborted (ERR with ABRT). */
    void abort() {
        complete(Fis.FAILED, Fis.ABRT);
    }
}
