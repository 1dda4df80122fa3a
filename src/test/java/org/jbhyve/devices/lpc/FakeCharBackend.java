package org.jbhyve.devices.lpc;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import org.jbhyve.backend.chr.CharBackend;

/** A backend in memory: records output, holds fed input until the device pulls it. */
final class FakeCharBackend implements CharBackend {
    final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final ArrayDeque<Byte> input = new ArrayDeque<>();
    private Runnable listener = () -> {};
    boolean closed;

    void feed(String s) {
        synchronized (this) {
            for (byte b : s.getBytes()) {
                input.add(b);
            }
        }
        listener.run();
    }

    synchronized int pending() {
        return input.size();
    }

    String outputText() {
        synchronized (output) {
            return output.toString();
        }
    }

    @Override
    public void write(int b) {
        synchronized (output) {
            output.write(b);
        }
    }

    @Override
    public void write(byte[] buf, int off, int len) {
        synchronized (output) {
            output.write(buf, off, len);
        }
    }

    @Override
    public synchronized int readAvailable(byte[] buf, int off, int len) {
        int n = 0;
        while (n < len && !input.isEmpty()) {
            buf[off + n++] = input.poll();
        }
        return n;
    }

    @Override
    public void onInputReady(Runnable listener) {
        this.listener = listener;
    }

    @Override
    public long droppedBytes() {
        return 0;
    }

    @Override
    public void close() {
        closed = true;
    }
}
