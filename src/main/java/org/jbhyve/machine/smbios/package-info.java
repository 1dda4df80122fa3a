/**
 * SMBIOS entry points and structures (bhyve's smbiostbl.c at 0xF1000): BIOS, system,
 * baseboard, chassis, processors, memory, boot information. Strings come from bhyve's
 * defaults overridden by bhyve_config keys; the system UUID from {@code -U} or derived
 * from host and VM name as bhyve does ({@link org.jbhyve.machine.smbios.SmbiosTables#defaultUuid}).
 */
package org.jbhyve.machine.smbios;
