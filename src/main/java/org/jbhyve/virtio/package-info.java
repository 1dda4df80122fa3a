/**
 * Virtio core: the split virtqueue ({@link org.jbhyve.virtio.Virtqueue}) with bounded, validated
 * chain walks, the transport-independent {@link org.jbhyve.virtio.VirtioDevice}, and the PCI
 * transport ({@link org.jbhyve.virtio.VirtioPciFunction}) as a transitional device: legacy
 * registers on I/O BAR0, virtio 1.x capabilities on memory BAR4, MSI-X table on BAR1 (or MSI
 * with {@code -W}, or INTx).
 *
 * <p>Fast path, as in Firecracker and kvmtool: a queue kick is a guest write that KVM turns into
 * an eventfd signal (KVM_IOEVENTFD, registered through {@link org.jbhyve.irq.GuestDoorbells}
 * wherever the BARs land), served by the event-loop thread; an interrupt is an eventfd write that
 * KVM turns into an MSI (KVM_IRQFD on a GSI routed with KVM_SET_GSI_ROUTING, behind
 * {@link org.jbhyve.irq.MsiVector}). Neither stops a vCPU thread. This package imports neither
 * {@code kvm} nor {@code sys}: the machine hands those in, and tests hand in a mock guest.
 *
 * <p>Unlike bhyve, which walks chains into a fixed iovec array and trusts the guest's ring
 * indexes more than it should, every guest-supplied index, length and address here is checked
 * once at walk time; protocol violations set DEVICE_NEEDS_RESET instead of asserting.
 */
package org.jbhyve.virtio;
