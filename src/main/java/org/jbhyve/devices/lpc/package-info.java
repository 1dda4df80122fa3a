/**
 * Devices behind the LPC (ISA) bridge: the 16550 UARTs {@code com1}..{@code com4}, the
 * MC146818 RTC with its CMOS, {@code pc-testdev}, the POST ports and the reset paths
 * (0xCF9 and the 8042 keyboard controller).
 *
 * <p>Each model is an {@link org.jbhyve.bus.IoHandler} (or hands out several, one per port
 * window) that sees offsets from its base, so the same {@code Uart16550} serves an ISA COM port
 * and the PCI {@code uart} BAR. Models get their interrupt as an
 * {@link org.jbhyve.irq.IrqLine}, their host side as a
 * {@link org.jbhyve.backend.chr.CharBackend}, and their effects on the machine (exit, reset) as
 * callbacks; they never touch {@code sys} or {@code kvm}, so they are tested without KVM.
 *
 * <p>Wiring a COM port:
 * <pre>{@code
 * LpcComPorts port = LpcComPorts.COM1;                       // 0x3F8, IRQ 4
 * CharBackend backend = CharBackends.open("stdio", "com1");  // from lpc.com1.path
 * Uart16550 uart = new Uart16550("com1", isaIrq(port.irq()), backend);
 * pio.register(port.base(), Uart16550.REGISTER_COUNT, "com1", uart);
 * }</pre>
 */
package org.jbhyve.devices.lpc;
