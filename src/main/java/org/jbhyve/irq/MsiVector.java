package org.jbhyve.irq;

/**
 * One MSI or MSI-X vector of a device: the message the guest programmed, and a way to send it.
 * A KVM-backed vector sends through an irqfd (a write to an eventfd; KVM injects without the
 * caller leaving user space for long and without any vCPU exit); a plain one calls
 * {@code KVM_SIGNAL_MSI}. Thread-safe: {@link #fire} may race with {@link #program}; a message
 * sent in the window goes to the old or the new address, as on real hardware.
 */
public interface MsiVector extends AutoCloseable {
    /** Sets the message (address 0 = not programmed: {@link #fire} does nothing). */
    void program(long address, int data);

    /** Sends the programmed message. */
    void fire();

    @Override
    default void close() {}

    /** A vector that calls {@code sender} with the programmed message on every fire. */
    static MsiVector direct(MsiSender sender) {
        return new MsiVector() {
            private volatile long address;
            private volatile int data;

            @Override
            public synchronized void program(long address, int data) {
                this.data = data;
                this.address = address;
            }

            @Override
            public void fire() {
                long a;
                int d;
                synchronized (this) {
                    a = address;
                    d = data;
                }
                if (a != 0) {
                    sender.send(a, d);
                }
            }
        };
    }

    /** Delivers one MSI message. */
    interface MsiSender {
        void send(long address, int data);
    }
}
