/**
 * Display devices: bhyve's {@code fbuf} framebuffer ({@link org.jbhyve.devices.display.Fbuf},
 * options in {@link org.jbhyve.devices.display.FbufOptions}). Its pixels are host memory the
 * machine maps into the guest with a KVM memory slot through
 * {@link org.jbhyve.devices.display.FramebufferMapper}, so the model stays free of KVM; the
 * RFB server that shows them lives in {@code backend.display}. The xHCI tablet is in {@code devices.usb}.
 */
package org.jbhyve.devices.display;
