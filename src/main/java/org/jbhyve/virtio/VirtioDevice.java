package org.jbhyve.virtio;

/**
 * A virtio device model, independent of the transport (virtio 1.x section 5). The transport owns
 * feature negotiation, status, queues and interrupts; the model supplies identity, its feature
 * bits and config layout, and serves queue notifications.
 *
 * <p>Threads: config accesses come from vCPU threads; {@link #queueNotified} from the event loop
 * (ioeventfd) or a vCPU thread; {@link #activate} and {@link #reset} from a vCPU thread writing
 * the status register. The transport serialises activate/reset against each other.
 */
public interface VirtioDevice extends AutoCloseable {
    /** Virtio device type (2 block, 3 console, 4 entropy). */
    int deviceType();

    /** The transitional PCI device id (0x1001 block, 0x1003 console, 0x1005 entropy). */
    int legacyPciDeviceId();

    /** PCI class code as class << 16 | subclass << 8 | prog-if. */
    int pciClass();

    /** Device-specific feature bits offered (the transport adds the ring and VERSION_1 bits). */
    long features();

    int queueCount();

    /** Maximum size of each queue (a power of two). */
    int queueMaxSize();

    /** Size of the device-specific config space in bytes. */
    int configSize();

    /** Little-endian read of the device config space; out-of-range bytes read 0. */
    long readConfig(int offset, int size);

    /** Driver write to the device config space (most fields are read-only: ignore). */
    default void writeConfig(int offset, int size, long value) {}

    /** The driver set DRIVER_OK: start serving the queues through {@code transport}. */
    void activate(VirtioTransport transport);

    /** The driver reset the device: drop in-flight work (completions after this are ignored). */
    void reset();

    /** The driver made buffers available on queue {@code queue}. */
    void queueNotified(int queue);

    /** Releases host resources (files, sockets, threads). */
    @Override
    default void close() {}
}
