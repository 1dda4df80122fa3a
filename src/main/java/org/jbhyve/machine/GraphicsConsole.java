package org.jbhyve.machine;

import java.io.IOException;
import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.devices.display.Fbuf;
import org.jbhyve.devices.display.FbufOptions;
import org.jbhyve.devices.usb.XhciFactory;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.pci.PciFunction;

/**
 * The VM's console as bhyve's console.c sees it: one {@link InputRouter} that viewers' keys and
 * pointer motion go through (to the i8042's PS/2 devices and the xHCI tablet, which takes the
 * pointer over when present), at most one {@code fbuf} with its RFB server and framebuffer memory
 * slot, and at most one {@code xhci} controller (bhyve allows one).
 *
 * <p>Life cycle: created before the PCI devices; {@link #createFbuf} is fbuf's catalog factory;
 * {@link #awaitFirstClient} runs before the vCPUs start (fbuf's {@code wait}); {@link #close}
 * stops the server and frees the framebuffer once the vCPUs are gone.
 */
final class GraphicsConsole implements AutoCloseable {
    private final VmFd vm;
    private final int memorySlot;
    private final InputRouter input = new InputRouter();
    private Fbuf fbuf;
    private FramebufferSlot framebuffer;
    private boolean xhci;

    /** @param memorySlot the KVM memory slot number reserved for the framebuffer */
    GraphicsConsole(VmFd vm, int memorySlot) {
        this.vm = vm;
        this.memorySlot = memorySlot;
    }

    /** Where console input goes; input devices register here. */
    InputRouter input() {
        return input;
    }

    /**
     * fbuf from its config node: options with bhyve's messages, the framebuffer slot, the RFB
     * server listening. Start-up problems are one-line MachineExceptions.
     */
    synchronized PciFunction createFbuf(DeviceContext c) {
        if (fbuf != null) {
            throw new MachineException("Only one frame buffer device is allowed.");
        }
        FbufOptions options;
        try {
            options = FbufOptions.parse(c::option, c::flag);
        } catch (IllegalArgumentException e) {
            throw new MachineException(e.getMessage());
        }
        FramebufferSlot slot = new FramebufferSlot(vm, memorySlot);
        Fbuf device = new Fbuf(options, slot.memory(), slot);
        try {
            device.startServer(input, c.vmName());
        } catch (IOException e) {
            slot.close();
            throw new MachineException("fbuf: " + e.getMessage());
        }
        framebuffer = slot;
        fbuf = device;
        return device;
    }

    /** xhci from its config node (bhyve's {@code -s N,xhci,tablet}); a second controller is refused as bhyve does. */
    synchronized PciFunction createXhci(DeviceContext c) {
        if (xhci) {
            throw new MachineException("pci_xhci controller already defined");
        }
        try {
            PciFunction controller = XhciFactory.create(c::option, c.tree().children(c.slot().node() + ".slot"),
                    c.memory(), c.interrupts(), input);
            xhci = true;
            return controller;
        } catch (IllegalArgumentException e) {
            throw new MachineException(c.slot().node() + ": " + e.getMessage());
        }
    }

    /** Blocks until a viewer connects when fbuf has {@code wait}; returns at once otherwise. */
    void awaitFirstClient() throws InterruptedException {
        Fbuf f;
        synchronized (this) {
            f = fbuf;
        }
        if (f != null) {
            f.awaitFirstClient();
        }
    }

    @Override
    public synchronized void close() {
        if (fbuf != null) {
            fbuf.close();
        }
        if (framebuffer != null) {
            framebuffer.close();
        }
    }
}
