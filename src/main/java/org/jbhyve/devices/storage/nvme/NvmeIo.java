package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jbhyve.backend.block.BlockIoException;
import org.jbhyve.memory.GuestMemory;

/**
 * The NVM command set on I/O queues (NVMe 1.4, section 6), for namespace 1:
 *
 * <pre>
 * 00h Flush          fdatasync (nothing to do for RAM)
 * 01h Write, 02h Read  cdw10/11 starting LBA, cdw12 15:0 blocks - 1, bit 30 FUA; data by PRPs
 * 08h Write Zeroes   cdw10/11 starting LBA, cdw12 15:0 blocks - 1
 * 09h Dataset Management  cdw10 7:0 ranges - 1, cdw11 bit 2 deallocate; the PRPs hold the
 *                    ranges: u32 attributes, u32 length in blocks, u64 starting LBA
 * </pre>
 * Checks happen on the fetching thread, in bhyve's order, and fail the command there: NSID
 * (Invalid Namespace, DNR), SGLs (Invalid Field), transfer above MDTS (Invalid Field), LBA range
 * (LBA Out of Range, overflow-safe), PRP1 alignment (Invalid Field), writes to a read-only
 * namespace (Namespace Write Protected), unreachable PRPs (Data Transfer Error). The transfer
 * itself runs on a storage worker between guest memory and the backend without copying;
 * a host I/O error is Data Transfer Error.
 */
final class NvmeIo implements CommandPump.Handler {
    static final int FLUSH = 0x00, WRITE = 0x01, READ = 0x02, WRITE_ZEROES = 0x08, DATASET_MANAGEMENT = 0x09;
    static final long MAX_TRANSFER = (long) Prp.PAGE << NvmeIdentify.MDTS;
    private static final int FUA = 1 << 30;
    private static final int DEALLOCATE = 1 << 2;

    private final GuestMemory memory;
    private final NvmeStorage storage;
    private final Namespace ns;
    private final NvmeLogPages logs;
    private final NvmeFeatures features;
    private final CommandPump pump;

    /** The one namespace: {@code blocks} of {@code 1 << sectorBits} bytes; DSM as advertised. */
    record Namespace(long blocks, int sectorBits, boolean dsm) {}

    NvmeIo(GuestMemory memory, NvmeStorage storage, Namespace ns, NvmeLogPages logs, NvmeFeatures features,
           CommandPump pump) {
        this.memory = memory;
        this.storage = storage;
        this.ns = ns;
        this.logs = logs;
        this.features = features;
        this.pump = pump;
    }

    @Override
    public void execute(Request r, NvmeCommand c) {
        if (c.nsid() != 1) {
            pump.complete(r, NvmeStatus.INVALID_NAMESPACE | NvmeStatus.DNR, 0);
            return;
        }
        if (c.psdt() != 0 || c.fuse() != 0) {
            pump.complete(r, NvmeStatus.INVALID_FIELD, 0);
            return;
        }
        switch (c.opcode()) {
            case READ, WRITE -> readWrite(r, c, c.opcode() == WRITE);
            case FLUSH -> async(r, () -> {
                storage.flush();
                return NvmeStatus.SUCCESS;
            });
            case WRITE_ZEROES -> writeZeroes(r, c);
            case DATASET_MANAGEMENT -> datasetManagement(r, c);
            default -> pump.complete(r, NvmeStatus.INVALID_OPCODE, 0);
        }
    }

    private void readWrite(Request r, NvmeCommand c, boolean write) {
        long lba = c.cdw10and11();
        long blocks = (c.cdw12() & 0xFFFF) + 1L;
        long bytes = blocks << ns.sectorBits();
        int status = bytes > MAX_TRANSFER ? NvmeStatus.INVALID_FIELD
                : outOfRange(lba, blocks) ? NvmeStatus.LBA_OUT_OF_RANGE
                : (c.prp1() & 3) != 0 ? NvmeStatus.INVALID_FIELD
                : write && storage.readOnly() ? NvmeStatus.NAMESPACE_WRITE_PROTECTED
                : NvmeStatus.SUCCESS;
        MemorySegment[] segs = null;
        int count = 0;
        if (status == NvmeStatus.SUCCESS) {
            segs = new MemorySegment[Prp.maxSegments(bytes)];
            count = Prp.map(memory, c.prp1(), c.prp2(), bytes, segs);
            status = count < 0 ? NvmeStatus.DATA_TRANSFER_ERROR : NvmeStatus.SUCCESS;
        }
        if (status != NvmeStatus.SUCCESS) {
            logs.record(write, bytes, false);
            pump.complete(r, status, 0);
            return;
        }
        long offset = lba << ns.sectorBits();
        MemorySegment[] data = segs;
        int n = count;
        boolean durable = write && ((c.cdw12() & FUA) != 0 || !features.writeCacheEnabled())
                && storage.volatileWriteCache();
        async(r, () -> {
            int result = NvmeStatus.SUCCESS;
            try {
                if (write) {
                    storage.write(offset, data, n);
                    if (durable) {
                        storage.flush();
                    }
                } else {
                    storage.read(offset, data, n);
                }
            } catch (BlockIoException e) {
                result = NvmeStatus.DATA_TRANSFER_ERROR;
            }
            logs.record(write, bytes, result == NvmeStatus.SUCCESS);
            return result;
        });
    }

    private void writeZeroes(Request r, NvmeCommand c) {
        long lba = c.cdw10and11();
        long blocks = (c.cdw12() & 0xFFFF) + 1L;
        if (outOfRange(lba, blocks)) {
            pump.complete(r, NvmeStatus.LBA_OUT_OF_RANGE, 0);
        } else if (storage.readOnly()) {
            pump.complete(r, NvmeStatus.NAMESPACE_WRITE_PROTECTED, 0);
        } else {
            async(r, () -> {
                storage.writeZeroes(lba << ns.sectorBits(), blocks << ns.sectorBits());
                return NvmeStatus.SUCCESS;
            });
        }
    }

    private void datasetManagement(Request r, NvmeCommand c) {
        if (!ns.dsm()) {
            pump.complete(r, NvmeStatus.INVALID_OPCODE, 0);
            return;
        }
        int ranges = (c.cdw10() & 0xFF) + 1;
        byte[] raw = Prp.copyFromGuest(memory, c.prp1(), c.prp2(), ranges * 16);
        if (raw == null) {
            pump.complete(r, NvmeStatus.DATA_TRANSFER_ERROR, 0);
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long[] starts = new long[ranges];
        long[] lengths = new long[ranges];
        int nonZero = 0;
        for (int i = 0; i < ranges; i++) {
            lengths[i] = Integer.toUnsignedLong(b.getInt(16 * i + 4));
            starts[i] = b.getLong(16 * i + 8);
            if (lengths[i] != 0) {
                if (outOfRange(starts[i], lengths[i])) {
                    pump.complete(r, NvmeStatus.LBA_OUT_OF_RANGE, 0);
                    return;
                }
                nonZero++;
            }
        }
        if ((c.cdw11() & DEALLOCATE) == 0 || !storage.canDeallocate() || nonZero == 0) {
            pump.complete(r, NvmeStatus.SUCCESS, 0); // advisory: nothing to do
            return;
        }
        async(r, () -> {
            try {
                for (int i = 0; i < ranges; i++) {
                    if (lengths[i] != 0) {
                        storage.deallocate(starts[i] << ns.sectorBits(), lengths[i] << ns.sectorBits());
                    }
                }
                return NvmeStatus.SUCCESS;
            } catch (BlockIoException e) {
                return NvmeStatus.INTERNAL_ERROR;
            }
        });
    }

    /** Whether [lba, lba + blocks) leaves the namespace, without overflowing. */
    private boolean outOfRange(long lba, long blocks) {
        return lba < 0 || blocks < 0 || lba >= ns.blocks() || blocks > ns.blocks() - lba;
    }

    /** A storage operation returning a status; a {@link BlockIoException} is Data Transfer Error. */
    interface Operation {
        int run() throws BlockIoException;
    }

    /** Runs {@code op} on a storage worker and completes {@code r} with its status. */
    private void async(Request r, Operation op) {
        pump.startAsync(r);
        storage.submit(() -> {
            int status = NvmeStatus.INTERNAL_ERROR;
            try {
                status = op.run();
            } catch (BlockIoException e) {
                status = NvmeStatus.DATA_TRANSFER_ERROR;
            } finally {
                pump.finishAsync(r, status, 0);
            }
        });
    }
}
