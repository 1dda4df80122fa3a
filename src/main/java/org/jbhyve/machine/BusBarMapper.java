package org.jbhyve.machine;

import org.jbhyve.bus.IoBus;
import org.jbhyve.pci.BarMapper;
import org.jbhyve.pci.PciBar;

/** Places I/O BARs on the port bus and memory BARs on the MMIO bus. */
final class BusBarMapper implements BarMapper {
    private final IoBus ports;
    private final IoBus mmio;

    BusBarMapper(IoBus ports, IoBus mmio) {
        this.ports = ports;
        this.mmio = mmio;
    }

    private IoBus busFor(PciBar bar) {
        return bar.kind() == PciBar.Kind.IO ? ports : mmio;
    }

    @Override
    public void map(PciBar bar, long address, String owner) {
        busFor(bar).register(address, bar.size(), owner, bar.handler());
    }

    @Override
    public void unmap(PciBar bar, long address) {
        busFor(bar).unregister(address);
    }
}
