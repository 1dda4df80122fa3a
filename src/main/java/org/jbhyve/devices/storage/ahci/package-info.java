/**
 * bhyve's AHCI SATA controller ({@code ahci}, {@code ahci-hd}, {@code ahci-cd}; pci_ahci.c).
 *
 * <h2>Structure</h2>
 * {@code AhciController} is the PCI function (ABAR registers, HBA reset, IS and the INTx/MSI
 * interrupt), {@code AhciPort} a port's registers, command list walk and received-FIS area,
 * {@code AhciCommand} one issued command (header, command FIS, ATAPI packet, bounded PRDT walk),
 * {@code Fis} the FIS layouts. Behind a port sits a {@code SataDevice}: {@code AtaDisk} (ATA
 * command set with NCQ and TRIM, {@code AtaIdentify}) or {@code AtapiCd} (MMC packet commands,
 * {@code AtapiPages}). {@code AhciFactory} turns the config keys into drives. Like every device
 * model it never touches the host directly: guest RAM is a {@link org.jbhyve.memory.GuestMemory},
 * interrupts {@link org.jbhyve.pci.PciInterrupts}, images {@link org.jbhyve.backend.block.BlockBackend}s.
 *
 * <h2>Differences from bhyve's pci_ahci.c, and why</h2>
 * <ul>
 * <li>Command headers, tables, PRDT entries and the FIS area are checked against guest RAM on
 *     every use (bhyve maps them with {@code paddr_guest2host} and trusts them). A header or table
 *     outside RAM fails the slot with a host bus error (PxIS.HBFS and TFES); a PRDT that does not
 *     cover a transfer fails the command with ABRT; a FIS area outside RAM receives nothing.</li>
 * <li>The command FIS and packet are copied at issue, and the device never writes into the
 *     guest's command table (bhyve edits the FIS in place to build the ATAPI interrupt reason,
 *     which this model puts in the D2H FIS's count field, where ATAPI defines it).</li>
 * <li>A transfer is one backend request over the whole PRDT, handed to the backend as slices of
 *     guest RAM (no bounce through the Java heap); bhyve splits at its iovec limit.</li>
 * <li>Reads and writes past the last sector fail with IDNF (ATAPI: LBA OUT OF RANGE) before any
 *     I/O; a PRDT shorter than the transfer fails instead of completing short.</li>
 * <li>Successful ATAPI commands clear the sense data and REQUEST SENSE reports it once; writes to
 *     the CD fail with DATA PROTECT / WRITE PROTECTED; GET CONFIGURATION and the media class of
 *     GET EVENT STATUS NOTIFICATION are implemented (bhyve has neither command in its list).</li>
 * <li>SStatus reports Gen3 as SATA defines it (SPD = 3); bhyve's header has 4 there.</li>
 * <li>MSI offers one message (bhyve offers up to 16, one per port); with one message bhyve and
 *     this model behave alike: a message on each new IS bit, and again when the guest clears an
 *     IS bit whose port still has an interrupt pending.</li>
 * <li>IDENTIFY data is built when asked, so the transfer mode chosen with SET FEATURES shows.</li>
 * <li>A PIO data-in command (IDENTIFY, READ SECTORS, READ LOG EXT) posts a PIO Setup FIS with the
 *     final status in E_Status, which Linux's ahci driver reads; it never has the interrupt bit,
 *     since SeaBIOS takes the status of a PIO Setup interrupt from that FIS's first status byte.</li>
 * </ul>
 */
package org.jbhyve.devices.storage.ahci;
