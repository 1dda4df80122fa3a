/**
 * Host side of block devices (B1): image files and block devices. Requests reach the kernel
 * through io_uring — one ring and one completion thread per backend, batched submission,
 * coalesced completions — or, where io_uring is unavailable or {@code jbhyve.block.engine=workers}
 * is set, through a worker pool doing preadv/pwritev. {@code nocache} is O_DIRECT with aligned
 * bounce buffers for unaligned guest buffers, {@code direct} O_SYNC, FLUSH an fdatasync,
 * discard/write-zeroes fallocate or BLKDISCARD/BLKZEROOUT. Devices use the asynchronous API
 * (a {@code Completion} on the completion thread, a listener per batch; virtio-blk does) or the
 * blocking one from worker threads (AHCI, NVMe and virtio-scsi still do). A host I/O error fails
 * that request only.
 *
 * <p>Opening: an image that cannot be written (EACCES, EROFS, mode 0444) is opened read-only with
 * a notice, as bhyve's blockif does, and every device model then presents a read-only disk. Each
 * image is locked with an open file description lock (exclusive read-write, shared read-only) so
 * two VMs never write one image; {@code nolock} opts out. A lock conflict is an
 * {@link org.jbhyve.backend.block.ImageLockedException} carrying the holders' pids, which the
 * command line turns into VM names through the registry.
 */
package org.jbhyve.backend.block;
