package org.jbhyve.irq;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.sys.EventFd;

/**
 * MSI vectors backed by irqfd: each vector owns a GSI above the IOAPIC's 24 and an eventfd
 * bound to it with KVM_IRQFD; programming a vector rewrites the VM's GSI routing table
 * (KVM_SET_GSI_ROUTING, which replaces the whole table, so it is rebuilt from every live
 * route); firing it is one eventfd write, which KVM turns into the MSI in the kernel.
 * A vector not yet programmed has no route and firing it does nothing.
 */
public final class KvmMsiRouter implements AutoCloseable {
    private final VmFd vm;
    private final Map<Integer, VmFd.MsiRoute> routes = new TreeMap<>();
    private final List<Vector> vectors = new ArrayList<>();
    private int nextGsi = VmFd.FIRST_MSI_GSI;

    public KvmMsiRouter(VmFd vm) {
        this.vm = vm;
    }

    /** A new irqfd-backed vector. */
    public synchronized MsiVector allocate() {
        Vector v = new Vector(nextGsi++);
        vectors.add(v);
        return v;
    }

    private synchronized void route(int gsi, long address, int data) {
        if (address == 0) {
            routes.remove(gsi);
        } else {
            routes.put(gsi, new VmFd.MsiRoute(gsi, address, data));
        }
        vm.setGsiRouting(List.copyOf(routes.values()));
    }

    @Override
    public synchronized void close() {
        for (Vector v : List.copyOf(vectors)) {
            v.close();
        }
    }

    private final class Vector implements MsiVector {
        private final int gsi;
        private final EventFd eventFd = new EventFd();
        private volatile boolean programmed;
        private boolean attached;
        private long address;
        private int data;

        Vector(int gsi) {
            this.gsi = gsi;
        }

        @Override
        public synchronized void program(long address, int data) {
            if (address == 0) {
                data = 0;
            }
            if (address == this.address && data == this.data && attached == (address != 0)) {
                return;
            }
            this.address = address;
            this.data = data;
            route(gsi, address, data);
            if (!attached && address != 0) {
                vm.attachIrqfd(eventFd.fd(), gsi, true);
                attached = true;
            }
            programmed = address != 0;
        }

        @Override
        public void fire() {
            if (programmed) {
                eventFd.signal();
            }
        }

        @Override
        public synchronized void close() {
            if (!eventFd.fd().isOpen()) {
                return;
            }
            try {
                if (attached) {
                    vm.attachIrqfd(eventFd.fd(), gsi, false);
                }
            } catch (RuntimeException e) {
                // the VM is going away
            }
            eventFd.close();
            synchronized (KvmMsiRouter.this) {
                vectors.remove(this);
            }
        }
    }
}
