package org.jbhyve.backend.display;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A FrameSource over an int array that tests paint and resize, and an InputSink that records. */
final class TestFrame implements FrameSource, InputSink {
    private int width, height;
    private int[] pixels;
    final List<String> events = new ArrayList<>();

    TestFrame(int width, int height) {
        resize(width, height);
    }

    synchronized void resize(int w, int h) {
        width = w;
        height = h;
        pixels = new int[w * h];
    }

    synchronized void paint(int x, int y, int w, int h, int rgb) {
        for (int row = y; row < y + h; row++) {
            Arrays.fill(pixels, row * width + x, row * width + x + w, rgb);
        }
    }

    synchronized int at(int x, int y) {
        return pixels[y * width + x];
    }

    @Override
    public synchronized int width() {
        return width;
    }

    @Override
    public synchronized int height() {
        return height;
    }

    @Override
    public synchronized boolean copy(int w, int h, int[] into) {
        if (w != width || h != height) {
            return false;
        }
        System.arraycopy(pixels, 0, into, 0, w * h);
        return true;
    }

    @Override
    public synchronized void key(boolean down, int keysym, int keycode) {
        events.add(String.format("key %s %x %x", down ? "down" : "up", keysym, keycode));
        notifyAll();
    }

    @Override
    public synchronized void pointer(int buttons, int x, int y, int w, int h) {
        events.add(String.format("pointer %d %d,%d of %dx%d", buttons, x, y, w, h));
        notifyAll();
    }

    /** Waits up to 5 s until {@code n} events were recorded; returns them. */
    synchronized List<String> awaitEvents(int n) throws InterruptedException {
        long end = System.currentTimeMillis() + 5000;
        while (events.size() < n && System.currentTimeMillis() < end) {
            wait(100);
        }
        return List.copyOf(events);
    }
}
