/**
 * Interrupts and doorbells between devices and KVM. Devices see only
 * {@link org.jbhyve.irq.IrqLine} (a level) and the notification interfaces; the KVM-backed
 * implementations live here: {@link org.jbhyve.irq.KvmIrqLine} (KVM_IRQ_LINE into the in-kernel
 * PIC/IOAPIC), the irqfd-backed MSI vectors (each vector a GSI with an MSI routing entry and an
 * eventfd, so firing it is one eventfd write from any thread) and the ioeventfd event loop that
 * turns guest queue notifications into device calls without stopping the vCPU thread.
 */
package org.jbhyve.irq;
