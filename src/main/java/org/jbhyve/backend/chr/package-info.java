/**
 * Character-device backends: the host end of the guest's serial lines (16550 UARTs on LPC and
 * PCI, later virtio-console).
 *
 * <h2>Shape of the interface</h2>
 * A {@link org.jbhyve.backend.chr.CharBackend} is a <em>push</em> sink for guest output and a
 * <em>pull</em> source for host input with a readiness callback:
 * <ul>
 * <li>{@code write(...)} is called by a vCPU thread in the middle of an I/O exit. It copies into
 *     a bounded ring and returns; a writer thread owns the host descriptor. A slow or absent
 *     consumer therefore costs the guest dropped bytes (counted by {@code droppedBytes()}),
 *     never a stalled vCPU.</li>
 * <li>Host input is read by a reader thread into a small bounded ring, then
 *     {@code onInputReady} tells the device. The device takes only what fits in its receive
 *     FIFO with {@code readAvailable} (non-blocking). What it leaves stays in the ring; when the
 *     ring is full the reader thread stops reading the host, so the kernel's buffer and finally
 *     the sender are throttled. Nothing is lost while the guest is slow to read.</li>
 * </ul>
 * A pull interface was chosen over a {@code Consumer<byte[]>} push because a 16550 has room for
 * at most 16 bytes: a push callback would have to drop, or block the reader inside the device's
 * lock. bhyve gets the same effect by disabling its mevent on the tty while the FIFO is full.
 *
 * <h2>Threads</h2>
 * All backend threads are platform daemon threads named {@code <device>-input/output/...}.
 * Descriptor-based backends wait in {@code poll(2)} on their descriptor plus an eventfd that
 * {@code close()} writes, because closing a descriptor does not wake a thread blocked on it.
 * The readiness callback runs on the input thread with no backend lock held, so the device may
 * take its own lock and call {@code readAvailable} from it.
 *
 * <h2>Terminals</h2>
 * Terminals are put in raw mode exactly as bhyve does ({@code cfmakeraw} + {@code CLOCAL}) and
 * restored by {@code close()}, a JVM shutdown hook and {@code StdioBackend.restoreAll()}.
 *
 * <p>Values are mapped by {@link org.jbhyve.backend.chr.CharBackends#open}. FreeBSD's nmdm
 * null-modem pairs become Linux pseudo-terminals whose peer path is printed on stderr.
 */
package org.jbhyve.backend.chr;
