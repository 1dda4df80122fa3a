package org.jbhyve.devices.lpc;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.jbhyve.devices.lpc.Uart16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.snapshot.StateWriter;
import org.junit.jupiter.api.Test;

/** The 16550's snapshot: registers, divisor latch, receive FIFO and interrupt state survive. */
class Uart16550SnapshotTest {
    private final RecordingIrqLine irq = new RecordingIrqLine();
    private final FakeCharBackend backend = new FakeCharBackend();
    private final Uart16550 uart = new Uart16550("com1", irq, backend);
    private final RecordingIrqLine freshIrq = new RecordingIrqLine();
    private final FakeCharBackend freshBackend = new FakeCharBackend();
    private final Uart16550 fresh = new Uart16550("com1", freshIrq, freshBackend);

    private static int rd(Uart16550 u, int reg) {
        return (int) u.read(reg, 1);
    }

    private static void wr(Uart16550 u, int reg, int v) {
        u.write(reg, 1, v);
    }

    /** FIFOs on, data and THRE interrupts enabled, "hi!" received, DLAB set with divisor 1. */
    private void busy() {
        wr(uart, REG_IER, IER_ERXRDY | IER_ETXRDY);
        wr(uart, REG_FCR, FCR_ENABLE | 0xC0);
        wr(uart, REG_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
        wr(uart, REG_SCR, 0x5A);
        backend.feed("hi!");
        wr(uart, REG_LCR, LCR_DLAB | 0x03);
        wr(uart, REG_DATA, 0x01);
        wr(uart, REG_IER, 0x00);
    }

    @Test
    void dlabAndReceivedBytesSurviveAndTheRestoredUartDeliversThem() {
        busy();
        assertTrue(irq.level());
        StateRoundTrip.assertRoundTrip(uart, fresh);

        assertTrue(freshIrq.level(), "the line is driven to the saved level");
        assertEquals(LCR_DLAB | 0x03, rd(fresh, REG_LCR));
        assertEquals(0x01, rd(fresh, REG_DATA), "DLL under DLAB");
        assertEquals(0x00, rd(fresh, REG_IER), "DLH under DLAB");
        assertEquals(0x5A, rd(fresh, REG_SCR));
        assertEquals(MCR_DTR | MCR_RTS | MCR_OUT2, rd(fresh, REG_MCR));
        wr(fresh, REG_LCR, 0x03);
        assertEquals(IER_ERXRDY | IER_ETXRDY, rd(fresh, REG_IER));
        assertEquals(IIR_FIFO_MASK | IIR_RXTOUT, rd(fresh, REG_IIR), "3 bytes: below the trigger level of 14");
        assertEquals('h', rd(fresh, REG_DATA));
        assertEquals('i', rd(fresh, REG_DATA));
        assertEquals('!', rd(fresh, REG_DATA));
        assertEquals(0, rd(fresh, REG_LSR) & LSR_RXRDY);
        assertTrue(freshIrq.level(), "THRE is still owed");
        assertEquals(IIR_FIFO_MASK | IIR_TXRDY, rd(fresh, REG_IIR));
        assertFalse(freshIrq.level());

        freshBackend.feed("z");
        assertEquals('z', rd(fresh, REG_DATA), "the new backend feeds the restored FIFO");
        wr(fresh, REG_DATA, 'o');
        assertEquals("o", freshBackend.outputText());
    }

    @Test
    void inputThatArrivesWhileTheVmIsRestoredFollowsTheSavedBytes() {
        busy();
        freshBackend.feed("xy"); // typed while bhyve -r was still building the machine
        StateRoundTrip.restore(fresh, uart.stateVersion(), StateRoundTrip.save(uart));
        wr(fresh, REG_LCR, 0x03);
        StringBuilder got = new StringBuilder();
        while ((rd(fresh, REG_LSR) & LSR_RXRDY) != 0) {
            got.append((char) rd(fresh, REG_DATA));
        }
        assertEquals("hi!xy", got.toString());
    }

    @Test
    void aFullFifoTakesWaitingHostInputOnlyAsTheGuestReads() {
        wr(uart, REG_FCR, FCR_ENABLE);
        backend.feed("0123456789abcdef");
        StateRoundTrip.assertRoundTrip(uart, fresh);
        freshBackend.feed("g");
        assertEquals(1, freshBackend.pending(), "the restored FIFO is full");
        assertEquals('0', rd(fresh, REG_DATA));
        assertEquals(0, freshBackend.pending());
    }

    @Test
    void overrunAndModemDeltasSurviveInLoopback() {
        wr(uart, REG_IER, IER_ERLS | IER_EMSC);
        wr(uart, REG_MCR, MCR_LOOPBACK | MCR_RTS);
        wr(uart, REG_DATA, 'a');
        wr(uart, REG_DATA, 'b'); // the 1-byte FIFO of 16450 mode overruns
        StateRoundTrip.assertRoundTrip(uart, fresh);
        assertTrue(freshIrq.level());
        assertEquals(IIR_RLS, rd(fresh, REG_IIR));
        assertEquals(LSR_OE | LSR_RXRDY | LSR_THRE | LSR_TEMT, rd(fresh, REG_LSR));
        assertEquals(MSR_CTS | MSR_DCTS | MSR_DDSR | MSR_DDCD, rd(fresh, REG_MSR));
        assertEquals('a', rd(fresh, REG_DATA));
        assertFalse(freshIrq.level());
    }

    @Test
    void moreBytesThanTheFifoHoldsIsRefused() {
        StateWriter out = new StateWriter();
        out.u8(0).u8(0).u8(0).u8(0).u8(0).u8(MSR_DCD | MSR_DSR).u8(0).u8(12).u8(0).bool(false);
        out.bytes(new byte[2]); // FIFO off: room for one
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> StateRoundTrip.restore(fresh, 1, out.toByteArray()));
        assertEquals("snapshot state of Uart16550 is not valid: 2 received bytes in a FIFO of 1", e.getMessage());
    }

    @Test
    void damagedBlobsGiveOnlySnapshotExceptions() {
        busy();
        CorruptBlobs.assertOnlySnapshotExceptions(() -> new Uart16550("com1", new RecordingIrqLine(), null),
                StateRoundTrip.save(uart));
    }
}
