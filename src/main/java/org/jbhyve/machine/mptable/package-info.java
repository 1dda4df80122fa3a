/**
 * Intel MP Specification 1.4 floating pointer and configuration table (bhyve's mptbl.c
 * layout at 0xF0000; the machine skips it with {@code -Y}, and by itself when the APIC ids do not
 * fit in the table's 8 bits). A configuration table longer than bhyve's 4 KiB slot goes where the
 * floating pointer says. APIC ids come from {@link org.jbhyve.machine.acpi.CpuTopology}, the same
 * as the MADT's.
 */
package org.jbhyve.machine.mptable;
