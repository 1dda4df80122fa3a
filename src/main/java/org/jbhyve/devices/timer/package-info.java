/**
 * Platform timers the VMM models itself because KVM has none in the kernel: the HPET
 * ({@link org.jbhyve.devices.timer.Hpet}, after bhyve's vmm/io/vhpet.c), whose 1 KiB register
 * block sits at guest-physical 0xFED00000 and which the ACPI HPET table and the DSDT's
 * {@code \_SB.PCI0.HPET} (PNP0103) announce.
 *
 * <p>Like the other device models it sees only offsets on its bus window, raises I/O APIC pins
 * through {@link org.jbhyve.irq.IrqLine}s it is handed, and sends FSB (MSI) messages through a
 * callback; it never touches {@code kvm} or {@code sys}. Its one thread of its own wakes it at
 * the next comparator match; every register access also finds due matches, so the guest never
 * reads a counter past a comparator whose interrupt has not been delivered. Tests drive it on a
 * fake clock without the thread ({@code Hpet.manual}) and call {@code runDueTimers()}.
 *
 * <p>Wiring it (the lines must be the machine's lines for those pins, since a KVM line keeps
 * its level; pins 2 and 8 are what LEG_RT_CNF uses, 20-23 what Tn_INT_ROUTE_CNF may pick):
 * <pre>{@code
 * Hpet hpet = new Hpet(pin -> ioapicLine(pin), (address, data) -> vm.signalMsi(address, data));
 * mmio.register(MemoryMap.HPET_BASE, Hpet.REGISTER_BLOCK_LENGTH, "hpet", hpet);
 * ...
 * hpet.close();   // stops the scheduler thread
 * }</pre>
 */
package org.jbhyve.devices.timer;
