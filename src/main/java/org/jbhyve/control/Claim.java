package org.jbhyve.control;

import java.io.IOException;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.sys.UnixStreamSocket;

/**
 * A bhyve's hold on its VM's name ({@link Registry#claim}): the bound control socket, in place
 * at {@code RUNDIR/vmm/NAME}, and the created VM's record if there was one. {@link #serve}
 * starts answering on the socket; {@link #release} gives the name back when the VM has ended.
 */
public final class Claim implements AutoCloseable {
    private final Registry registry;
    private final String name;
    private final UnixStreamSocket channel;
    private final VmRecord record;
    private final Object fileKey;
    private ControlServer server;
    private boolean released;

    Claim(Registry registry, String name, UnixStreamSocket channel, VmRecord record, Object fileKey) {
        this.registry = registry;
        this.name = name;
        this.channel = channel;
        this.record = record;
        this.fileKey = fileKey;
    }

    public String name() {
        return name;
    }

    /** The created VM this name stood for (bhyveload, bhyvectl --create), or null. */
    public VmRecord record() {
        return record;
    }

    Object fileKey() {
        return fileKey;
    }

    /** Starts answering requests about {@code vm} on the control socket. */
    public synchronized ControlServer serve(MachineControl vm) {
        if (server != null) {
            throw new IllegalStateException("already serving");
        }
        server = new ControlServer(channel, vm);
        server.start();
        return server;
    }

    /** Whether a client asked for the VM to be destroyed (bhyvectl --destroy). */
    public synchronized boolean destroyRequested() {
        return server != null && server.destroyRequested();
    }

    /**
     * Stops answering and gives the name back: a created VM's entry becomes its record again
     * unless {@code destroy} (bhyvectl --destroy, or bhyve -D at power-off); any other entry goes.
     */
    public synchronized void release(boolean destroy) {
        if (released) {
            return;
        }
        released = true;
        if (server != null) {
            server.close();
        } else {
            channel.close();
        }
        try {
            registry.release(this, !destroy);
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, "VM registry: cannot remove the entry of " + name
                    + ": " + RunDirectory.reason(e), e);
        }
    }

    /** {@link #release} as the VM's end decided it: destroyed if a client asked, kept otherwise. */
    @Override
    public void close() {
        release(destroyRequested());
    }
}
