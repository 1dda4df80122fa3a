/**
 * virtio-net (P4): a transitional network device (legacy id 1af4:1000, class 020000, subsystem
 * 1) on the {@link org.jbhyve.virtio} core, in front of a {@link org.jbhyve.backend.net.NetBackend}.
 *
 * <h2>Layout</h2>
 * {@link org.jbhyve.devices.virtio.net.VirtioNet} is the model (features, config space,
 * activation and reset); {@link org.jbhyve.devices.virtio.net.NetReceiver} fills receive
 * buffers, {@link org.jbhyve.devices.virtio.net.NetTransmitter} sends transmit chains,
 * {@link org.jbhyve.devices.virtio.net.NetControl} serves the control queue and the receive
 * filter it programs; {@link org.jbhyve.devices.virtio.net.NetWorker} is the thread each data
 * path runs on.
 *
 * <h2>Why a thread per direction</h2>
 * Kicks arrive on the event loop (ioeventfd) or a vCPU thread, frames on the backend's reader
 * thread. Neither may be held for long: the event loop serves every device and a vCPU must get
 * back to the guest. So a kick or a frame only signals a worker, which drains its queue in
 * bounded batches (at most one ring's worth per lock hold), publishes the used entries of a
 * batch and interrupts once per batch. A guest that never posts receive buffers costs nothing:
 * frames stay in the backend's bounded queue, which drops and counts the excess.
 *
 * <h2>Transmit batches</h2>
 * The transmitter queues each frame with the backend ({@code NetBackend.queue}) and flushes
 * before it publishes the chains as used: only then may the guest reuse the buffers. A tap
 * sends a flush of up to 64 frames with one io_uring submission (gathered straight from guest
 * RAM) instead of one writev per frame; where io_uring is unavailable it writes each frame at
 * once. {@code bench/virtio-net} compares this path with raw tap writes.
 *
 * <h2>The virtio-net header</h2>
 * Every frame carries a {@code struct virtio_net_hdr} (flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, and num_buffers when the header is 12 bytes: with VERSION_1 or
 * MRG_RXBUF). The tap speaks the same header, so it is handed through unchanged in both
 * directions after the backend is switched to the negotiated size; the device only writes
 * num_buffers on receive and checks on transmit that the guest uses only offloads it
 * negotiated.
 */
package org.jbhyve.devices.virtio.net;
