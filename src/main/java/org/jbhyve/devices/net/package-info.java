/**
 * Network interface models. {@link org.jbhyve.devices.net.E1000} is bhyve's {@code e1000}, an
 * Intel 82545EM; virtio-net lives with the other virtio devices.
 *
 * <h2>Structure</h2>
 * One model split along the lines the chip has: {@code E1000} (PCI function, register file,
 * interrupts, receive), {@code E1000Transmit} (descriptor walk, checksum offload, TSO),
 * {@code E1000Nvm} (the Microwire EEPROM and EERD), {@code E1000Phy} (the MDIC-attached PHY),
 * {@code E1000Registers} (the register map). Like every device model it never touches the host:
 * guest RAM comes as a {@link org.jbhyve.memory.GuestMemory}, the interrupt as
 * {@link org.jbhyve.pci.PciInterrupts}, the wire as a {@link org.jbhyve.backend.net.NetBackend}.
 * For snapshots each part saves its own state ({@code save}/{@code restore}) and {@code E1000}
 * puts them together in one blob.
 *
 * <h2>Differences from bhyve's pci_e82545.c, and why</h2>
 * <ul>
 * <li>Ring bases, lengths, head/tail indices and every buffer address are checked against guest
 *     RAM; bhyve maps the rings with {@code paddr_guest2host} and asserts on odd descriptor mixes.
 *     A bad packet here is dropped with a rate-limited log line.</li>
 * <li>Receive honours the destination filters (RAL/RAH, MTA hash with RCTL.MO, BAM, UPE/MPE),
 *     appends a real FCS unless RCTL.SECRC, and leaves frames queued in the backend while the ring
 *     is full instead of discarding them: a guest that refills promptly loses nothing.</li>
 * <li>Statistics count what really passes and clear on read, as the hardware's do.</li>
 * <li>Transmit runs on the vCPU thread that writes TDT (bhyve has a transmit thread); the tap
 *     write does not block, so a vCPU never waits for the host network.</li>
 * <li>The RDTR/RADV/TIDV/TADV delay timers are stored but not applied: ITR moderation is.</li>
 * </ul>
 */
package org.jbhyve.devices.net;
