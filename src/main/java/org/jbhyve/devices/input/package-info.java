/**
 * Input devices a viewer types and points with: the i8042 keyboard controller with its PS/2
 * keyboard and mouse ({@link org.jbhyve.devices.input.I8042}, bhyve's {@code atkbdc.c},
 * {@code ps2kbd.c}, {@code ps2mouse.c}) and the key tables ({@link org.jbhyve.devices.input.Ps2Keymap}).
 * They take console input through {@code backend.display.InputRouter}; the xHCI tablet ({@code devices.usb}) registers there with a higher priority and takes the pointer.
 */
package org.jbhyve.devices.input;
