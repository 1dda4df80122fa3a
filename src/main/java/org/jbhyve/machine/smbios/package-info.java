/**
 * SMBIOS entry points and structures (bhyve's smbiostbl.c at 0xF1000): BIOS, system,
 * baseboard, chassis, processors, memory, boot information. Strings come from bhyve's
 * defaults overridden by bhyve_config keys; the system UUID from {@code -U} or derived
 * from host and VM name as bhyve does ({@link org.jbhyve.machine.smbios.SmbiosTables#defaultUuid}).
 * With many sockets the structure table outgrows bhyve's slot and moves, the entry point staying
 * at 0xF1000 ({@link org.jbhyve.machine.smbios.SmbiosTables#place}).
 */
package org.jbhyve.machine.smbios;
