package org.jbhyve.virtio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;

/**
 * A guest without a CPU: native memory posing as guest RAM at guest-physical 0, a bump
 * allocator over it, and interrupt sinks that count MSIs and the INTx level.
 */
public final class MockGuest implements PciInterrupts, AutoCloseable {
    public final Arena arena = Arena.ofShared();
    public final MemorySegment ram;
    public final GuestMemory memory;
    public final AtomicInteger msiCount = new AtomicInteger();
    public final Semaphore msis = new Semaphore(0);
    public volatile long lastMsiAddress;
    public volatile int lastMsiData;
    public volatile boolean intxLevel;
    private long next = 0x1000;

    public MockGuest(long size) {
        ram = arena.allocate(size, 4096);
        memory = new GuestMemory(List.of(new GuestMemory.Region(0, ram)));
    }

    /** Allocates {@code size} bytes aligned to {@code align} (zeroed). */
    public synchronized long alloc(long size, long align) {
        long at = (next + align - 1) & -align;
        if (at + size > ram.byteSize()) {
            throw new IllegalStateException("mock guest RAM exhausted");
        }
        next = at + size;
        ram.asSlice(at, size).fill((byte) 0);
        return at;
    }

    @Override
    public IrqLine intx() {
        return level -> intxLevel = level;
    }

    @Override
    public void sendMsi(long address, int data) {
        lastMsiAddress = address;
        lastMsiData = data;
        msiCount.incrementAndGet();
        msis.release();
    }

    @Override
    public void close() {
        arena.close();
    }
}
