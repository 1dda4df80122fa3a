/**
 * Host side of block devices (B1): image files and block devices, served by a worker pool off
 * the vCPU and event-loop threads; {@code nocache} is O_DIRECT with aligned per-worker bounce
 * buffers, {@code direct} O_SYNC, FLUSH an fdatasync, discard/write-zeroes fallocate or
 * BLKDISCARD/BLKZEROOUT. A host I/O error fails that request only.
 */
package org.jbhyve.backend.block;
