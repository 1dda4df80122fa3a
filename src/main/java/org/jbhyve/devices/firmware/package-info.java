/**
 * Devices firmware talks to before an operating system runs:
 *
 * <ul>
 *   <li>{@link org.jbhyve.devices.firmware.FwCfg}, QEMU's firmware configuration interface
 *       (ports 0x510-0x51B): how SeaBIOS, OVMF and Multiboot test kernels learn the memory map,
 *       the CPU count, the boot order and get the ACPI and SMBIOS tables;</li>
 *   <li>{@link org.jbhyve.devices.firmware.CfiFlash}, the CFI parallel flash (Intel command set)
 *       that holds OVMF's UEFI variables for {@code -l bootrom,CODE.fd,VARS.fd};</li>
 *   <li>{@link org.jbhyve.devices.firmware.DebugPort}, the debug console at port 0x402.</li>
 * </ul>
 *
 * <p>A flash is ROM most of the time and a small command device the rest: in read-array mode its
 * contents are a read-only KVM memory slot (guest reads cost nothing, guest writes trap as MMIO
 * and arrive as commands); after a command such as READ STATUS the slot is removed and every read
 * comes to the model. The model never touches KVM: it reports the switch through
 * {@link org.jbhyve.devices.firmware.CfiFlash.RomMode}, and the machine adds or removes the slot.
 *
 * <p>Where QEMU puts the images (pc_sysfw.c, which Debian's OVMF is built for): the flashes are
 * stacked down from 4 GiB without gaps, the code ({@code pflash0}) at the top and the variables
 * ({@code pflash1}) just below it. For {@code OVMF_CODE_4M.fd} (0x37C000 bytes) and
 * {@code OVMF_VARS_4M.fd} (0x84000 bytes, 132 blocks of 4 KiB): code at
 * [0xFFC84000, 0x1_0000_0000), variables at [0xFFC00000, 0xFFC84000), which is the firmware's
 * own PcdOvmfFdBaseAddress. The 2 MiB build: code 0x1E0000 bytes at 0xFFE20000, variables
 * 0x20000 bytes at 0xFFE00000. bhyve's bootrom code places a variable file the same way.
 *
 * <p>Threads: all three are called on vCPU threads and lock their own state; fw_cfg DMA runs
 * synchronously inside the port write that starts it, so the guest sees it complete at once.
 */
package org.jbhyve.devices.firmware;
