package org.jbhyve.devices.lpc;

import java.util.Locale;
import java.util.Optional;

/**
 * The PC's standard COM ports: where an LPC 16550 decodes its eight registers and which ISA IRQ
 * it drives. bhyve offers {@code com1}..{@code com4} with exactly these resources (COM3 and
 * COM4 share IRQs with COM1 and COM2, as on real PCs).
 */
public enum LpcComPorts {
    COM1(0x3F8, 4),
    COM2(0x2F8, 3),
    COM3(0x3E8, 4),
    COM4(0x2E8, 3);

    private final int base;
    private final int irq;

    LpcComPorts(int base, int irq) {
        this.base = base;
        this.irq = irq;
    }

    /** First I/O port; the UART spans {@link Uart16550#REGISTER_COUNT} ports from here. */
    public int base() {
        return base;
    }

    /** ISA IRQ number. */
    public int irq() {
        return irq;
    }

    /** The bhyve device name: {@code com1}... */
    public String deviceName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The port for a bhyve name ({@code com1}, case-insensitive). */
    public static Optional<LpcComPorts> byName(String name) {
        for (LpcComPorts p : values()) {
            if (p.deviceName().equalsIgnoreCase(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
