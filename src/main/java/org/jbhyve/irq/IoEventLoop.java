package org.jbhyve.irq;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.sys.Epoll;
import org.jbhyve.sys.EventFd;

/**
 * The device event loop: one platform thread waiting in epoll on the ioeventfds of every
 * doorbell ({@link GuestDoorbells}) and running their handlers. Handlers must be short (they
 * queue work for backends); a handler that throws is logged and the loop goes on. A dedicated
 * eventfd stops the loop.
 */
public final class IoEventLoop implements GuestDoorbells, AutoCloseable {
    private static final int MAX_EVENTS = 32;
    private static final long STOP_COOKIE = 0;

    private record Entry(EventFd eventFd, Runnable handler) {}

    private final VmFd vm;
    private final Epoll epoll = new Epoll();
    private final EventFd stop = new EventFd();
    private final Map<Long, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong nextCookie = new AtomicLong(1);
    private final Thread thread;
    private volatile boolean stopping;

    public IoEventLoop(VmFd vm) {
        this.vm = vm;
        epoll.add(stop.fd(), Epoll.EPOLLIN, STOP_COOKIE);
        thread = Thread.ofPlatform().name("virtio-events").daemon(true).unstarted(this::run);
        thread.start();
    }

    @Override
    public Registration register(long address, int length, boolean pio, long value, Runnable handler) {
        EventFd efd = new EventFd();
        long cookie = nextCookie.getAndIncrement();
        entries.put(cookie, new Entry(efd, handler));
        try {
            vm.attachIoeventfd(efd.fd(), address, length, pio, value, true);
        } catch (RuntimeException e) {
            entries.remove(cookie);
            efd.close();
            throw e;
        }
        epoll.add(efd.fd(), Epoll.EPOLLIN, cookie);
        return () -> {
            if (entries.remove(cookie) != null) {
                try {
                    vm.attachIoeventfd(efd.fd(), address, length, pio, value, false);
                    epoll.remove(efd.fd());
                } catch (RuntimeException e) {
                    // the VM is going away
                }
                efd.close();
            }
        };
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = Epoll.eventBuffer(arena, MAX_EVENTS);
            while (!stopping) {
                int n = epoll.wait(events, -1);
                for (int i = 0; i < n; i++) {
                    long cookie = Epoll.eventCookie(events, i);
                    Entry e = cookie == STOP_COOKIE ? null : entries.get(cookie);
                    if (e == null) {
                        continue;
                    }
                    try {
                        e.eventFd().drain();
                        e.handler().run();
                    } catch (RuntimeException ex) {
                        System.err.println("jbhyve: device notification failed: " + ex);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        stopping = true;
        stop.signal();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Long cookie : entries.keySet()) {
            Entry e = entries.remove(cookie);
            if (e != null) {
                e.eventFd().close();
            }
        }
        epoll.close();
        stop.close();
    }
}
