/**
 * Port I/O and MMIO dispatch: an {@link org.jbhyve.bus.IoBus} holds sorted, non-overlapping
 * ranges, each owned by an {@link org.jbhyve.bus.IoHandler} that sees offsets from its base (so
 * BARs move without devices knowing). Unclaimed accesses read all ones and are reported, which
 * is how {@code -e} stops the VM. Lookups take a read lock so vCPUs dispatch concurrently; BAR
 * moves take the write lock.
 */
package org.jbhyve.bus;
