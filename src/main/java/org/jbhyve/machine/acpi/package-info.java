/**
 * ACPI tables for the x86 machine ({@code bhyve -A}), built in Java at run time.
 *
 * <p>Input is a {@link org.jbhyve.machine.acpi.PlatformDescription}: topology, RAM,
 * the PCI root bridge's windows, ECAM, ISA devices and INTx routes. Output is a list of
 * {@link org.jbhyve.machine.acpi.TableBlob}s (guest-physical address + bytes) the machine
 * copies into guest RAM. No KVM, no device models, no external compiler: bhyve writes ASL
 * and runs iasl; here {@link org.jbhyve.machine.acpi.Aml} encodes the DSDT directly, and
 * the tests use {@code iasl -d} only to check the result.
 *
 * <p>One file per table. Layout and identification follow bhyve (see
 * {@link org.jbhyve.machine.acpi.AcpiTables}). {@link org.jbhyve.machine.acpi.CpuTopology}
 * is the single source of APIC ids, shared with the MP table and SMBIOS packages.
 */
package org.jbhyve.machine.acpi;
