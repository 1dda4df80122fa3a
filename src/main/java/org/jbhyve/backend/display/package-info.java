/**
 * Display backends: bhyve's RFB (VNC) server, which shows a guest framebuffer
 * ({@link org.jbhyve.backend.display.FrameSource}) to viewers and turns their keys and pointer
 * motion into console input ({@link org.jbhyve.backend.display.InputSink}, routed to the
 * PS/2 or USB devices by {@link org.jbhyve.backend.display.InputRouter}, bhyve's console.c).
 *
 * <h2>Design</h2>
 * <ul>
 * <li>{@link org.jbhyve.backend.display.RfbServer} accepts viewers; each gets a reader thread
 *     (handshake and client messages, {@code RfbSession}) and a writer thread (updates,
 *     {@code RfbUpdater}). bhyve serves one viewer and shares one socket between its two
 *     threads; here several viewers watch at once and a viewer that stops reading blocks only
 *     its own writer in {@code write(2)}: nothing it does can make the guest or another viewer
 *     wait. Requests are not queued: a pending request is one area per kind (incremental,
 *     full), merged, so a flood of requests costs no memory.</li>
 * <li>Incremental updates diff the frame against the last frame this viewer was sent, in 64x64
 *     tiles (bhyve: CRC32 of 32x32 cells). KVM's dirty log would tell which pages the guest
 *     wrote, but a comparison per viewer is exact, needs no ioctl and no cooperation from the
 *     memory slot, and costs a few milliseconds per frame.</li>
 * <li>Pixel formats: any true-colour format with 8, 16 or 32 bits per pixel in either byte
 *     order; channels are scaled with rounding. Encodings: raw, zlib (one
 *     {@link java.util.zip.Deflater} stream per viewer, sync-flushed per rectangle), the
 *     DesktopSize pseudo-encoding when the guest changes mode, and QEMU's extended key event
 *     (the raw key number reaches the keyboard, so viewer keymaps do not matter).</li>
 * <li>VNC authentication uses the JDK's DES ({@code DES/ECB/NoPadding}) with the password's
 *     bit-mirrored key; the password is never logged or printed.</li>
 * </ul>
 */
package org.jbhyve.backend.display;
