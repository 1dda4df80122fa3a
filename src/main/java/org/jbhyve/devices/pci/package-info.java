/** bhyve's bridges: {@code hostbridge}/{@code amd_hostbridge} (with a PCIe root-port capability) and the PCI side of {@code lpc}. */
package org.jbhyve.devices.pci;
