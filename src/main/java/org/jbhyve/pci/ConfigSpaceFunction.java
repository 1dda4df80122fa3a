package org.jbhyve.pci;

import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * A function whose whole state is its config space and BAR addresses (the bridges): its
 * snapshot blob (layout 1) is exactly what {@link PciFunction#saveFunctionState} writes.
 */
public abstract class ConfigSpaceFunction extends PciFunction implements Snapshottable {
    protected ConfigSpaceFunction(PciConfigSpace config) {
        super(config);
    }

    @Override
    public final int stateVersion() {
        return 1;
    }

    @Override
    public final void saveState(StateWriter out) {
        saveFunctionState(out);
    }

    @Override
    public final void restoreState(StateReader in, int version) {
        restoreFunctionState(in);
    }
}
