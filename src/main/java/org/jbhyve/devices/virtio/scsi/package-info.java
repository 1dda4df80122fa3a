/**
 * virtio-scsi (P8): a transitional virtio SCSI host adapter (1af4:1004, class 010000, virtio
 * type 8) whose target 0 is emulated over block backends, where FreeBSD's bhyve forwards the
 * commands to the CAM target layer.
 *
 * <h2>Layout</h2>
 * Two halves that know nothing of each other's protocol details:
 * <ul>
 *   <li>the SCSI side, transport-independent so another transport (USB mass storage, a
 *       parallel SCSI HBA) can reuse it: {@link org.jbhyve.devices.virtio.scsi.ScsiCommand}
 *       (CDB, data-in/out as {@link org.jbhyve.devices.virtio.scsi.ScsiData} guest slices,
 *       status and {@link org.jbhyve.devices.virtio.scsi.ScsiSense}),
 *       {@link org.jbhyve.devices.virtio.scsi.ScsiTarget} (LUNs, REPORT LUNS, missing LUNs) and
 *       {@link org.jbhyve.devices.virtio.scsi.ScsiDisk} (SBC-3 block device), with
 *       {@code ScsiInquiry}, {@code ScsiModePages} and {@code ScsiBlockIo} for its command
 *       groups;</li>
 *   <li>the virtio side: {@link org.jbhyve.devices.virtio.scsi.VirtioScsi} (identity, config,
 *       queues), {@code ScsiSession} (one driver session: request loop, batching, task set),
 *       {@code VirtioScsiRequest} (chain layout), {@code ScsiControlQueue} (TMF, AN),
 *       {@code TaskSet}, {@code UsedBatch}, {@code VirtioScsiConfig}, and
 *       {@link org.jbhyve.devices.virtio.scsi.VirtioScsiFactory} for the config node.</li>
 * </ul>
 *
 * <h2>Threads and the data path</h2>
 * Kicks arrive on the event loop. The request loop parses a chain, then either answers on that
 * thread (INQUIRY, MODE SENSE, REPORT LUNS... a few hundred bytes copied) or hands the block I/O
 * to the LUN's backend workers with the command's guest-memory slices, so reads and writes go
 * between guest RAM and the image with no copy through the Java heap. Completions of a queue are
 * published in batches (one used-index store and at most one interrupt per batch), and the
 * answers made inline during one kick go out together.
 *
 * <h2>What a hostile driver can do</h2>
 * Chains are walked and bounds-checked by {@link org.jbhyve.virtio.Virtqueue}; a broken ring
 * sets NEEDS_RESET. Everything inside a chain is checked here: short headers get response
 * FAILURE, buffers too small or in the wrong direction OVERRUN, any CDB at all ends in a SCSI
 * status, never an exception on a device thread; the per-request loops are bounded by the ring
 * size and the UNMAP descriptor limit.
 */
package org.jbhyve.devices.virtio.scsi;
