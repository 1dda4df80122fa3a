package org.jbhyve.devices.lpc;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.irq.IrqLine;

/** An IrqLine that remembers its level and every transition. */
final class RecordingIrqLine implements IrqLine {
    final List<Boolean> history = new ArrayList<>();
    private boolean level;

    @Override
    public synchronized void set(boolean level) {
        this.level = level;
        history.add(level);
    }

    synchronized boolean level() {
        return level;
    }
}
