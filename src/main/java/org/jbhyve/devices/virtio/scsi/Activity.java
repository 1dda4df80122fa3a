package org.jbhyve.devices.virtio.scsi;

/**
 * The work a virtio-scsi device has taken from its queues and not yet finished, and the pause a
 * snapshot puts on taking more. A unit of work is counted from the moment it is taken until
 * everything it owes the driver is published: a queue-serving pass until it returns, a command
 * until its completion joins a {@link UsedBatch}, a completion until its used-ring entry is
 * published and the action after it has run. Work that follows counted work (a command a pass
 * starts, the entry a command completes with, a pass continued on another thread) is counted
 * before its predecessor ends, so the count reaches zero only when nothing remains. Only new
 * passes are refused while paused; counted work always finishes.
 */
final class Activity {
    private int outstanding;
    private boolean paused;

    /** Counts a pass started by a kick; false (nothing counted) while paused. */
    synchronized boolean tryEnter() {
        if (paused) {
            return false;
        }
        outstanding++;
        return true;
    }

    /** Counts {@code n} units that follow counted work. */
    synchronized void enter(int n) {
        outstanding += n;
    }

    synchronized void exit(int n) {
        outstanding -= n;
        if (outstanding == 0) {
            notifyAll();
        }
    }

    /** Whether passes should stop taking chains (they leave the rest on the ring). */
    synchronized boolean paused() {
        return paused;
    }

    /** Refuses new passes and waits until all counted work has finished. */
    synchronized void pauseAndDrain() {
        paused = true;
        boolean interrupted = false;
        while (outstanding > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;          // the work finishes on its own: keep waiting
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    synchronized void resume() {
        paused = false;
    }
}
