/**
 * Firmware devices: {@link org.jbhyve.devices.firmware.CfiFlash}, the CFI parallel flash (Intel
 * command set) that holds OVMF's UEFI variables for {@code -l bootrom,CODE.fd,VARS.fd}.
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
 * <p>Wiring (the integrator's side):
 * <pre>{@code
 * MemorySegment vars = ...;                 // VARS file mmap'ed MAP_SHARED (PROT_READ if read-only)
 * long base = codeBase - vars.byteSize();   // just below the code ROM
 * CfiFlash flash = new CfiFlash(vars, CfiFlash.QEMU_PC_BLOCK_SIZE, readOnly,
 *         direct -> { if (direct) mapReadOnlySlot(base, vars); else removeSlot(base); });
 * mapReadOnlySlot(base, vars);              // the chip starts in read-array mode
 * mmio.register(base, flash.size(), "bootvars", flash);
 * }</pre>
 */
package org.jbhyve.devices.firmware;
