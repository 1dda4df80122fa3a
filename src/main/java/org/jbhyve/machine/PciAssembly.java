package org.jbhyve.machine;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoBus;
import org.jbhyve.devices.lpc.PcTestDev;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.irq.IoEventLoop;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.irq.KvmIrqLine;
import org.jbhyve.irq.KvmMsiRouter;
import org.jbhyve.irq.MsiVector;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.machine.acpi.PlatformDescription.PciInterruptRoute;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.pci.BarAllocator;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.pci.PciRoot;

/**
 * Builds the PCI hierarchy from the spec's {@code -s} slots: each function from the catalog,
 * placed on the root, its BARs assigned, its INTx wired.
 *
 * <p>INTx routing follows bhyve: the four pins of each occupied bus-0 slot, in slot order, take
 * IOAPIC pins 16-23 round robin ({@link PciInterruptRoute#roundRobin}); the same list feeds the
 * DSDT's _PRT and the MP table, and a function's interrupt line register holds its pin's GSI.
 *
 * <p>Fast paths: devices get irqfd-backed MSI vectors ({@link KvmMsiRouter}: GSIs from 24 up,
 * routed with KVM_SET_GSI_ROUTING) and doorbells served by one event-loop thread
 * ({@link IoEventLoop}: KVM_IOEVENTFD + epoll). Functions that own host resources are closed
 * by {@link #close()}, then the event loop and the vectors.
 */
final class PciAssembly implements AutoCloseable {
    private static final int FIRST_PCI_GSI = 16;
    private static final int PCI_GSI_COUNT = 8;

    private final PciRoot root = new PciRoot();
    private final List<PciFunction> functions = new ArrayList<>();
    private final BarAllocator bars;
    private final List<PciInterruptRoute> routes;
    private final Resources owned = new Resources();
    private final KvmMsiRouter msiRouter;
    private final IoEventLoop eventLoop;

    PciAssembly(MachineSpec spec, MemoryMap map, GuestMemory memory, VmFd vm, IoBus ports, IoBus mmio,
                GraphicsConsole console) {
        this.bars = new BarAllocator(map);
        if (spec.pcTestDev()) {
            bars.reserveIo(PcTestDev.IRQ_PORT_BASE, 0x20);
        }
        List<Integer> slots = spec.pciSlots().stream().filter(s -> s.bus() == 0).map(MachineSpec.PciSlot::slot)
                .distinct().sorted().toList();
        this.routes = PciInterruptRoute.roundRobin(slots, FIRST_PCI_GSI, PCI_GSI_COUNT);
        BusBarMapper mapper = new BusBarMapper(ports, mmio);
        this.msiRouter = new KvmMsiRouter(vm);
        this.eventLoop = new IoEventLoop(vm);
        try {
            build(spec, vm, memory, mapper, console);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        mmio.register(MemoryMap.ECAM_BASE, MemoryMap.ECAM_SIZE, "pci-ecam", root.ecam());
    }

    private void build(MachineSpec spec, VmFd vm, GuestMemory memory, BusBarMapper mapper, GraphicsConsole console) {
        GuestDoorbells doorbells = eventLoop;
        for (MachineSpec.PciSlot s : spec.pciSlots()) {
            int gsi = gsiFor(s.bus(), s.slot(), 0);
            IrqLine intx = gsi < 0 ? IrqLine.NONE : new KvmIrqLine(vm, gsi);
            PciInterrupts interrupts = new PciInterrupts() {
                @Override
                public IrqLine intx() {
                    return intx;
                }

                @Override
                public void sendMsi(long address, int data) {
                    vm.signalMsi(address, data);
                }

                @Override
                public MsiVector msiVector() {
                    return msiRouter.allocate();
                }
            };
            PciFunction f = PciDeviceCatalog.create(new DeviceContext(s, spec.tree(), memory, interrupts, doorbells,
                    spec.name(), console));
            if (f instanceof AutoCloseable c) {
                owned.own(c);
            }
            root.add(s.bus(), s.slot(), s.function(), s.device(), f, mapper);
            functions.add(f);
            if (gsi >= 0 && f.config().get8(PciConfigSpace.INTERRUPT_PIN) != 0) {
                f.config().put8(PciConfigSpace.INTERRUPT_LINE, gsi);
            }
            f.bars().forEach(bar -> f.assignBar(bar.index(), bars.allocate(bar)));
        }
    }

    /** Closes the devices (files, sockets, worker threads), then the event loop and MSI vectors. */
    @Override
    public void close() {
        owned.close();
        eventLoop.close();
        msiRouter.close();
    }

    private int gsiFor(int bus, int slot, int pin) {
        for (PciInterruptRoute r : routes) {
            if (r.bus() == bus && r.slot() == slot && r.pin() == pin) {
                return r.gsi();
            }
        }
        return -1;
    }

    /** The functions in {@code -s} order; each is named by {@link PciFunction#name()}. */
    List<PciFunction> functions() {
        return List.copyOf(functions);
    }

    PciRoot root() {
        return root;
    }

    List<PciInterruptRoute> routes() {
        return routes;
    }

    long pci64Base() {
        return bars.pci64Base();
    }

    long pci64Limit() {
        return bars.pci64Limit();
    }
}
