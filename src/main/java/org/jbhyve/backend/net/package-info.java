/**
 * Network backends: the host end of guest NICs (e1000 now, virtio-net next).
 *
 * <h2>Shape of the interface</h2>
 * A {@link org.jbhyve.backend.net.NetBackend} is a gather {@code send} and a pull {@code receive}
 * with a readiness callback, like the character backends and like bhyve's {@code net_backends.h}
 * ({@code netbe_send}, {@code netbe_peek_recvlen}, {@code netbe_recv}, {@code netbe_rx_discard}):
 * <ul>
 * <li>the device sends from whatever thread runs its transmit path (a vCPU thread for e1000's
 *     TDT write); a tap write does not block, a failure drops the one frame;</li>
 * <li>a reader thread drains the tap into a bounded queue and calls the device's listener; the
 *     device takes frames only while it has guest buffers ({@code peekLength} tells how many it
 *     needs), so a full receive ring leaves frames queued, and a full queue drops new frames
 *     (counted) rather than growing.</li>
 * </ul>
 * Scatter/gather works on {@link java.lang.foreign.MemorySegment}s, which is what
 * {@link org.jbhyve.memory.GuestMemory#slice} returns: a device can send straight from guest
 * buffers ({@code writev}) without a copy.
 *
 * <h2>virtio-net headers</h2>
 * The tap is always opened with {@code IFF_VNET_HDR}. While the user asks for no header the
 * backend adds and strips a zero one itself; {@code setVnetHeader(10|12)} and
 * {@code setOffloads(...)} then map to TUNSETVNETHDRSZ and TUNSETOFFLOAD, so virtio-net can
 * decide at feature negotiation without reopening the interface.
 *
 * <h2>Linux versus FreeBSD</h2>
 * bhyve opens {@code /dev/tapN}, which on FreeBSD must already exist; Linux's TUNSETIFF would
 * instead create a transient interface, so {@link org.jbhyve.backend.net.TapBackend} refuses
 * names that do not exist, with the {@code ip tuntap add} line that fixes it. FreeBSD's netgraph
 * and netmap are refused with the Linux alternative (SPEC L3).
 */
package org.jbhyve.backend.net;
