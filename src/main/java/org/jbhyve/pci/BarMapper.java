package org.jbhyve.pci;

/**
 * Places BAR ranges on the machine's buses. Implemented by the machine (port I/O bus for I/O
 * BARs, MMIO bus for memory BARs); device models never see the buses themselves.
 */
public interface BarMapper {
    void map(PciBar bar, long address, String owner);

    void unmap(PciBar bar, long address);
}
