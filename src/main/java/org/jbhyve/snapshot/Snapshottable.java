package org.jbhyve.snapshot;

/**
 * A part of the machine whose guest-visible state goes into a snapshot: every device model, the
 * PCI functions' config spaces, the vCPUs and KVM's in-kernel chips. Writing a device model means
 * writing this too; {@code DeviceStateCoverageTest} fails for a device class without it.
 *
 * <p>The contract:
 * <ul>
 *   <li>{@link #saveState} is called with every vCPU outside KVM_RUN and after {@link #quiesce}:
 *       nothing changes the state while it is written. It writes guest-visible state only: host
 *       resources (files, taps, sockets, threads) are rebuilt from the command line.</li>
 *   <li>{@link #restoreState} is called on a freshly built device (same command line, guest RAM
 *       already restored, vCPUs not yet running) and must leave it exactly as saved, including
 *       what the state implies outside the object: BAR mappings, interrupt lines and MSI routes,
 *       ioeventfds, worker threads serving queues that were live. A blob it cannot use (truncated,
 *       a value out of range, a backend that does not fit, such as a disk of another size) is a
 *       {@link SnapshotException} with one line naming the difference.</li>
 *   <li>{@link #stateVersion} changes whenever the blob's layout does; {@code restoreState}
 *       receives the version the blob was written with and reads every older version it knows
 *       (a newer one is refused by the caller before the call).</li>
 *   <li>Save, then restore into a fresh instance, then save again gives the same bytes.</li>
 * </ul>
 */
public interface Snapshottable {
    /** The layout version of this part's blob; starts at 1. */
    int stateVersion();

    /** Writes the guest-visible state. */
    void saveState(StateWriter out);

    /** Replaces the state with one saved by {@link #saveState} at layout {@code version}. */
    void restoreState(StateReader in, int version);

    /**
     * Brings work the part does on its own threads to rest (in-flight requests completed and
     * reported to the guest, no new work taken) so that {@link #saveState} sees a still state.
     * Called after the vCPUs are paused; the default is for parts without threads.
     */
    default void quiesce() {}

    /** Lets the part's threads work again after a checkpoint that keeps the VM running. */
    default void resumeAfterSnapshot() {}
}
