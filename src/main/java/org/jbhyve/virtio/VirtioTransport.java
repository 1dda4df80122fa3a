package org.jbhyve.virtio;

/** What an activated device sees of its transport: queues, negotiated features, interrupts. */
public interface VirtioTransport {
    Virtqueue queue(int index);

    /** Feature bits both sides agreed on. */
    long negotiatedFeatures();

    default boolean hasFeature(int bit) {
        return (negotiatedFeatures() & (1L << bit)) != 0;
    }

    /** Interrupts the driver for {@code queue}'s new used entries if it asked for one. */
    void notifyUsed(Virtqueue queue);

    /** Tells the driver the device config changed. */
    void notifyConfigChanged();

    /** The driver broke the queue protocol: set DEVICE_NEEDS_RESET and tell it. */
    void queueBroken(Virtqueue queue, VirtqueueException error);
}
