/**
 * Builds and runs a VM from the settings tree, in phases ({@link org.jbhyve.machine.VirtualMachine}):
 * firmware files checked first; KVM with its in-kernel irqchip and PIT; guest RAM; the boot ROM
 * and UEFI variable flash when {@code -l bootrom} is given ({@link org.jbhyve.machine.BootRom},
 * {@link org.jbhyve.machine.VarsFlash}); buses; PCI devices
 * ({@link org.jbhyve.machine.PciAssembly}, from {@link org.jbhyve.machine.PciDeviceCatalog}
 * keyed by bhyve's emulation names); legacy devices ({@link org.jbhyve.machine.IsaDevices},
 * HPET included); firmware tables ({@link org.jbhyve.machine.FirmwareTables}: MP table, SMBIOS,
 * ACPI describing the machine as built); QEMU's fw_cfg with what firmware and Multiboot kernels
 * read ({@link org.jbhyve.machine.FirmwareConfig}, {@link org.jbhyve.machine.BootOrder}); the
 * kernel, unless firmware boots; vCPUs with their CPUID ({@link org.jbhyve.machine.CpuidBuilder}).
 * {@link org.jbhyve.machine.MachineSpec} is the one place that reads the tree's keys.
 * Everything acquired is owned by a {@link org.jbhyve.machine.Resources} and released in reverse.
 *
 * <p>Two ways to start. Without firmware the loader writes the tables into the BIOS area and
 * puts the boot vCPU in the entry state of the kernel's protocol. With firmware nothing is
 * written below 1 MiB but the ROM's image: every vCPU starts at the x86 reset state, and the
 * tables travel as fw_cfg files the firmware installs itself (ACPI through QEMU's linker/loader
 * script), because a BIOS owns and rearranges that area.
 *
 * <p>Departures from DESIGN.md: the machine reads the config tree (machine → config), rather than
 * config depending on machine; the tree is plain data and the machine is its only interpreter.
 * Firmware sees QEMU's fw_cfg rather than bhyve's fwctl: the firmware a Linux host has (SeaBIOS,
 * OVMF) speaks only the former.
 */
package org.jbhyve.machine;
