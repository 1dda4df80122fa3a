package org.jbhyve.backend.block;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The backend's worker threads: platform threads taking tasks from one queue. They run
 * {@link BlockBackend#submit} tasks, every request under the worker engine, and the requests
 * io_uring leaves to blocking calls. A task that throws is logged and the worker goes on.
 */
final class WorkerPool implements AutoCloseable {
    private static final Runnable STOP = () -> {};

    private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private final String path;

    WorkerPool(String name, int count, String path) {
        this.path = path;
        for (int i = 0; i < Math.max(1, count); i++) {
            Thread t = Thread.ofPlatform().name(name + "-" + i).daemon(true).unstarted(this::loop);
            threads.add(t);
            t.start();
        }
    }

    void submit(Runnable task) {
        work.add(task);
    }

    private void loop() {
        while (true) {
            Runnable r;
            try {
                r = work.take();
            } catch (InterruptedException e) {
                return;
            }
            if (r == STOP) {
                return;
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                System.err.println("jbhyve: " + path + ": request failed: " + e);
            }
        }
    }

    /** Lets queued tasks run, then ends the threads (waiting up to 2 s for each). */
    @Override
    public void close() {
        for (int i = 0; i < threads.size(); i++) {
            work.add(STOP);
        }
        for (Thread t : threads) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
