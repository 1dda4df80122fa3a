/**
 * Builds and runs a VM from the settings tree, in phases ({@link org.jbhyve.machine.VirtualMachine}):
 * KVM with its in-kernel irqchip and PIT; guest RAM; buses; PCI devices
 * ({@link org.jbhyve.machine.PciAssembly}, from {@link org.jbhyve.machine.PciDeviceCatalog}
 * keyed by bhyve's emulation names); legacy devices ({@link org.jbhyve.machine.IsaDevices});
 * firmware tables ({@link org.jbhyve.machine.FirmwareTables}: MP table, SMBIOS, ACPI describing
 * the machine as built); the kernel; vCPUs with their CPUID ({@link org.jbhyve.machine.CpuidBuilder}).
 * {@link org.jbhyve.machine.MachineSpec} is the one place that reads the tree's keys.
 * Everything acquired is owned by a {@link org.jbhyve.machine.Resources} and released in reverse.
 *
 * <p>Departure from DESIGN.md: the machine reads the config tree (machine → config), rather than
 * config depending on machine; the tree is plain data and the machine is its only interpreter.
 */
package org.jbhyve.machine;
