/**
 * PCI as the guest reaches it: {@link org.jbhyve.pci.PciConfigSpace} (4 KiB with per-byte write
 * masks and a capability list), {@link org.jbhyve.pci.PciFunction} (the BAR protocol: sizing,
 * 64-bit halves, decoding gated by the command register, re-placement through a
 * {@link org.jbhyve.pci.BarMapper}), {@link org.jbhyve.pci.PciRoot} (configuration mechanism #1
 * at 0xCF8/0xCFC, where a byte at 0xCF9 is reset control, and ECAM), and
 * {@link org.jbhyve.pci.BarAllocator} (bhyve's windows: I/O from 0x2000, 32-bit memory in the
 * hole below ECAM, 64-bit memory above RAM). BARs are assigned and decoding is enabled at
 * start-up, as bhyve does, since guests booted without firmware expect it.
 */
package org.jbhyve.pci;
