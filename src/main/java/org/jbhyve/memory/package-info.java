/**
 * Guest RAM: {@link org.jbhyve.memory.MemoryMap} is bhyve's guest-physical layout (RAM below
 * 3 GiB, the PCI hole and ECAM, the rest of RAM from 4 GiB, 64-bit BARs above),
 * {@link org.jbhyve.memory.GuestRam} the anonymous mappings behind it (2 MiB-aligned and advised
 * to use transparent huge pages, MAP_NORESERVE, MADV_DONTDUMP unless -C, mlock with -S), {@link org.jbhyve.memory.GuestMemory} the
 * bounds-checked view devices use.
 *
 * <p>Every access goes through {@code slice(address, length)}, which checks the range against
 * one region; a guest-given address outside RAM is a {@link org.jbhyve.memory.GuestMemoryException}
 * for that request, never an access to host memory. Slices are the DMA windows handed to
 * backends (pread/pwrite straight into guest RAM). Ordering is the caller's: virtqueues add
 * their own commented fences.
 */
package org.jbhyve.memory;
