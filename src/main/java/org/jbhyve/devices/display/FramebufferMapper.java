package org.jbhyve.devices.display;

import java.lang.foreign.MemorySegment;

/**
 * Makes host memory appear as guest RAM at a guest-physical address (bhyve's
 * {@code vm_mmap_memseg} of its VM_FRAMEBUFFER segment). Implemented by the machine with a KVM
 * memory slot, so guest loads and stores to the framebuffer run at memory speed and never exit;
 * device models stay free of KVM. Calls come from config-space writes (BAR moves), serialised by
 * the device.
 */
public interface FramebufferMapper {
    /** Maps {@code memory} at {@code guestAddress}, replacing any previous mapping of it. */
    void map(MemorySegment memory, long guestAddress);

    /** Removes the mapping at {@code guestAddress}; the range then reads as unclaimed MMIO. */
    void unmap(long guestAddress);

    /** A mapper that maps nothing (tests; the BAR's MMIO handler then serves the accesses). */
    FramebufferMapper NONE = new FramebufferMapper() {
        @Override
        public void map(MemorySegment memory, long guestAddress) {}

        @Override
        public void unmap(long guestAddress) {}
    };
}
