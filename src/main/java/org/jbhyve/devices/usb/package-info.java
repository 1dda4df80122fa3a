/**
 * USB (P14): bhyve's {@code xhci} host controller ({@link org.jbhyve.devices.usb.XhciController},
 * built by {@link org.jbhyve.devices.usb.XhciFactory}) and its one device model, the
 * {@code tablet} absolute pointer that makes a VNC console's mouse usable.
 *
 * <h2>How an xHCI controller talks to its driver</h2>
 * Everything but a few registers lives in guest memory, in structures the driver builds and
 * the controller reads and writes by DMA (xHCI 1.2, chapters 4 and 6):
 *
 * <pre>
 *  registers (BAR0)                   guest memory
 *  DCBAAP ─────────────────────────►  Device Context Base Address Array [slot] ─► Device Context
 *  CRCR ───────────────────────────►  Command Ring      (TRBs; Link TRB back to the start)
 *  ERSTBA ─► Event Ring Segment Table ─► Event Ring     (the controller writes, driver reads)
 *  doorbell[slot], target DCI ──────► the endpoint's Transfer Ring (its address is in the
 *                                      Endpoint Context of the slot's Device Context)
 * </pre>
 * Rings are arrays of 16-byte TRBs ({@link org.jbhyve.devices.usb.Trb}). A producer hands a
 * TRB over by writing its cycle bit last, equal to the consumer's cycle state; the consumer
 * takes TRBs while the bit matches. At the end of a segment a Link TRB points back (or on),
 * flipping the cycle state when it has Toggle Cycle, so the same memory is reused with the
 * meaning of the bit inverted. The driver produces on the command and transfer rings
 * ({@link org.jbhyve.devices.usb.TrbRing} consumes them); the controller produces on the event
 * ring ({@link org.jbhyve.devices.usb.EventRing}) and the driver tells it how far it has read
 * through ERDP.
 *
 * <h2>Bringing up a device</h2>
 * <ol>
 *   <li>The driver resets the controller (USBCMD.HCRST), sets CONFIG.MaxSlotsEn, DCBAAP, CRCR
 *       and interrupter 0's ERSTSZ/ERSTBA/ERDP, then sets USBCMD.R/S. The controller reports
 *       the attached device: PORTSC.CCS and CSC, and a Port Status Change Event.</li>
 *   <li>It resets the port (PORTSC.PR), which enables it (PED) and shows the speed.</li>
 *   <li>Enable Slot gives a slot id; the driver fills an Input Context (Slot Context with the
 *       root port number, Endpoint Context 1 with the control endpoint's ring) and points the
 *       DCBAA entry at an empty Device Context; Address Device copies them over and sends
 *       SET_ADDRESS.</li>
 *   <li>Control transfers on endpoint 0 (Setup, Data, Status stage TRBs and doorbell target 1)
 *       read the descriptors; SET_CONFIGURATION picks configuration 1.</li>
 *   <li>Configure Endpoint adds the interrupt IN endpoint (DCI 3 for endpoint 1 IN); the
 *       driver queues a Normal TRB on its ring and rings doorbell target 3. The TRB completes
 *       (a Transfer Event) when the tablet has a report, and the driver queues the next.</li>
 * </ol>
 * Each command yields a Command Completion Event, each TRB with IOC a Transfer Event; events
 * interrupt through interrupter 0 ({@link org.jbhyve.devices.usb.Interrupter}): MSI, or INTx.
 *
 * <h2>Layout of this package</h2>
 * {@link org.jbhyve.devices.usb.XhciController} owns the registers and the lock;
 * {@link org.jbhyve.devices.usb.XhciLayout} holds BAR0's map and capability values,
 * {@link org.jbhyve.devices.usb.InterruptPath} the MSI and INTx delivery,
 * {@link org.jbhyve.devices.usb.RootPort} a port's PORTSC state machine,
 * {@link org.jbhyve.devices.usb.CommandRing} CRCR and the command loop,
 * {@link org.jbhyve.devices.usb.Commands} the command set and the
 * {@link org.jbhyve.devices.usb.DeviceSlot}s, {@link org.jbhyve.devices.usb.Contexts} the
 * context layouts, {@link org.jbhyve.devices.usb.Transfers} the transfer rings of each
 * {@link org.jbhyve.devices.usb.Endpoint}; all events go through an
 * {@link org.jbhyve.devices.usb.EventSink} to the interrupter. Devices implement
 * {@link org.jbhyve.devices.usb.UsbDevice}: {@link org.jbhyve.devices.usb.UsbTablet} with
 * {@link org.jbhyve.devices.usb.TabletDescriptors}.
 *
 * <h2>What bhyve shows and what is left out</h2>
 * The controller looks like bhyve's: Intel 8086:1E31, eight ports (1-4 USB 3, 5-8 USB 2), 64
 * slots, one interrupter, one event ring segment, no scratchpad buffers, 32-byte contexts. Not
 * modelled: streams, isochronous transfers, bulk and OUT endpoints on devices (none has them),
 * bandwidth and latency commands, save/restore of controller state (USBCMD.CSS/CRS complete
 * at once with nothing saved), interrupt moderation timing, MFINDEX wrap events, events for
 * Link TRBs with IOC.
 *
 * <h2>Threads</h2>
 * One lock, the controller's monitor, guards all controller state; vCPU threads take it for
 * register accesses, a device's wake-up (a viewer thread for the tablet) takes it to complete
 * pending transfers. Devices are called with it held and keep their own state under their own
 * lock, which they never hold while calling the controller: the order is always controller,
 * then device.
 *
 * <h2>Snapshots</h2>
 * Contexts and rings are guest memory and come back with RAM; the controller saves its side of
 * them (registers, the command ring's and each endpoint ring's dequeue pointer and cycle state,
 * the event ring's enqueue index and producer cycle state, slots and ports) and each device's
 * state nested in it ({@link org.jbhyve.devices.usb.UsbDevice} is
 * {@link org.jbhyve.snapshot.Snapshottable}). While quiesced, device wake-ups are held, so a
 * tablet report never lands in guest memory during a snapshot.
 */
package org.jbhyve.devices.usb;
