/**
 * Loading a kernel without firmware, which bhyveload and grub-bhyve do on FreeBSD: Multiboot v1
 * kernels (GRUB's and QEMU's {@code -kernel} protocol, e.g. kvm-unit-tests), PVH ELF
 * (hvm_start_info), Linux bzImage (32-bit boot protocol) and vmlinux without a PVH note (64-bit
 * boot protocol on identity page tables). {@link org.jbhyve.machine.boot.E820Map} is bhyve's
 * memory map; {@link org.jbhyve.machine.boot.BootLayout} where the loader's own structures go.
 * Malformed images are {@link org.jbhyve.machine.boot.BootException}s (one line for the user);
 * the ELF parser and the Multiboot header fields are fuzzed to keep it that way.
 */
package org.jbhyve.machine.boot;
