package org.jbhyve.backend.chr;

import org.jbhyve.devices.lpc.Uart16550;
import org.jbhyve.irq.IrqLine;

/** A 16550 driven the way a guest's polling driver does, over a real backend. */
final class SerialLine {
    final Uart16550 uart;

    SerialLine(CharBackend backend) {
        uart = new Uart16550("com1", IrqLine.NONE, backend);
        // FIFOs stay off (16450 mode, one byte at a time): enabling them resets the receive
        // FIFO, which would race with input the backend is already delivering.
    }

    void send(String s) {
        for (char c : s.toCharArray()) {
            uart.write(0, 1, c);
        }
    }

    /** Receives {@code n} bytes, waiting for the data-ready bit, or what came within 5 s. */
    String receive(int n) throws InterruptedException {
        StringBuilder sb = new StringBuilder();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (sb.length() < n && System.nanoTime() < deadline) {
            if ((uart.read(5, 1) & 0x01) != 0) {
                sb.append((char) uart.read(0, 1));
            } else {
                Thread.sleep(2);
            }
        }
        return sb.toString();
    }
}
