/**
 * Port I/O and MMIO dispatch: an {@link org.jbhyve.bus.IoBus} holds sorted, non-overlapping
 * ranges, each owned by an {@link org.jbhyve.bus.IoHandler} that sees offsets from its base (so
 * BARs move without devices knowing). Unclaimed accesses read all ones and are reported, which
 * is how {@code -e} stops the VM. Every exit looks a range up, so a look-up takes no lock and
 * allocates nothing: the ranges are immutable sorted arrays, replaced as a whole (and published
 * through a volatile field) when a device claims a range or a BAR moves.
 */
package org.jbhyve.bus;
