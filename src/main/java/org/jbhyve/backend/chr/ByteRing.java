package org.jbhyve.backend.chr;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded byte FIFO shared by one producer thread and one consumer thread. Non-blocking
 * {@link #put}/{@link #take} move what fits; the {@code await} methods let a pump thread sleep
 * until there is data or room. {@link #close()} wakes every waiter for good.
 */
final class ByteRing {
    private final byte[] buf;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private int head;
    private int count;
    private boolean closed;

    ByteRing(int capacity) {
        buf = new byte[capacity];
    }

    /** Copies as many of the bytes as fit; returns how many. */
    int put(byte[] src, int off, int len) {
        lock.lock();
        try {
            int n = Math.min(len, buf.length - count);
            for (int i = 0; i < n; i++) {
                buf[(head + count + i) % buf.length] = src[off + i];
            }
            count += n;
            if (n > 0) {
                notEmpty.signalAll();
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Moves up to {@code len} bytes out; returns how many (0 if empty). */
    int take(byte[] dst, int off, int len) {
        lock.lock();
        try {
            int n = Math.min(len, count);
            for (int i = 0; i < n; i++) {
                dst[off + i] = buf[(head + i) % buf.length];
            }
            head = (head + n) % buf.length;
            count -= n;
            if (n > 0) {
                notFull.signalAll();
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until some bytes are queued; false once closed (and empty) or on timeout. */
    boolean awaitData(long timeoutMillis) throws InterruptedException {
        lock.lock();
        try {
            long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (count == 0 && !closed) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return count > 0;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until there is room; false once closed. */
    boolean awaitSpace() throws InterruptedException {
        lock.lock();
        try {
            while (count == buf.length && !closed) {
                notFull.await();
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
