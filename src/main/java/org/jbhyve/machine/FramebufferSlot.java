package org.jbhyve.machine;

import java.lang.foreign.MemorySegment;
import org.jbhyve.devices.display.Fbuf;
import org.jbhyve.devices.display.FramebufferMapper;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * The host side of fbuf's framebuffer (bhyve's VM_FRAMEBUFFER memory segment): 32 MiB of
 * anonymous memory, mapped into the guest with one KVM memory slot at BAR1's address and moved
 * (slot deleted, then re-created) whenever the guest moves the BAR. Guest accesses then never
 * exit, as with RAM. The pages are reserved lazily and left out of core dumps like guest RAM.
 *
 * <p>A BAR placed where KVM refuses a slot (over RAM or another slot) stays unmapped with one
 * log line; the device's MMIO handler then serves the range, so the guest still works, slowly.
 */
final class FramebufferSlot implements FramebufferMapper, AutoCloseable {
    private final VmFd vm;
    private final int slot;
    private final MemorySegment memory;
    private long mappedAt = -1;
    private boolean closed;

    /** Allocates the memory; {@code slot} is a KVM memory slot number no one else uses. */
    FramebufferSlot(VmFd vm, int slot) {
        this.vm = vm;
        this.slot = slot;
        this.memory = Posix.mmap(Fbuf.FB_SIZE, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, null, 0);
        Posix.madvise(memory, Posix.MADV_DONTDUMP);
    }

    /** The framebuffer memory, for {@link Fbuf}. */
    MemorySegment memory() {
        return memory;
    }

    @Override
    public synchronized void map(MemorySegment segment, long guestAddress) {
        if (closed) {
            return;
        }
        if (mappedAt != -1) {
            vm.removeMemoryRegion(slot, mappedAt);
            mappedAt = -1;
        }
        try {
            vm.setUserMemoryRegion(slot, guestAddress, segment);
            mappedAt = guestAddress;
        } catch (SysException e) {
            System.err.println(String.format("jbhyve: fbuf: cannot map the framebuffer at 0x%x: %s", guestAddress,
                    e.getMessage()));
        }
    }

    @Override
    public synchronized void unmap(long guestAddress) {
        if (mappedAt != -1 && mappedAt == guestAddress && !closed) {
            vm.removeMemoryRegion(slot, mappedAt);
            mappedAt = -1;
        }
    }

    /** Where the slot currently maps the framebuffer, -1 for nowhere. */
    synchronized long mappedAt() {
        return mappedAt;
    }

    /** Frees the memory; call once no vCPU runs (the slot goes with the VM fd). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Posix.munmap(memory);
        }
    }
}
