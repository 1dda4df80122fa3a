/**
 * bhyve's {@code nvme} (P10): an NVM Express 1.4 controller with one namespace on a disk image,
 * a block device or host memory.
 *
 * <p>Layout: {@link org.jbhyve.devices.storage.nvme.NvmeController} is the PCI function and its
 * registers; {@code CommandPump} fetches commands from submission queues and posts completions;
 * {@code NvmeAdmin} and {@code NvmeIo} execute the admin and NVM command sets; {@code Prp} walks
 * data pointers; {@code NvmeFeatures}, {@code NvmeLogPages}, {@code NvmeIdentify} and
 * {@code AsyncEvents} hold the controller's state and data structures; {@code NvmeStorage} hides
 * whether the namespace is a file ({@code BlockStorage}) or RAM ({@code RamStorage});
 * {@link org.jbhyve.devices.storage.nvme.NvmeFactory} builds a controller from a config node.
 *
 * <p>Why it is built this way rather than as a copy of pci_nvme.c: a command is fetched only
 * once its completion has a reserved slot and, on I/O queues, an {@code ioslots} slot is free,
 * so a hostile guest cannot make the controller buffer completions or block a vCPU thread
 * (bhyve parks the vCPU on a semaphore and queues overflowing completions in host memory);
 * queues are objects that die on deletion or reset, so late completions of an old session are
 * dropped without a generation check on every path; interrupts are coalesced per batch of
 * overlapping completions.
 */
package org.jbhyve.devices.storage.nvme;
