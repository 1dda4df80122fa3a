package org.jbhyve.devices.usb;

import java.nio.charset.StandardCharsets;

/**
 * The descriptors of bhyve's USB tablet (usb_mouse.c), byte for byte what a guest reads from
 * bhyve, so drivers and udev rules that match it keep working.
 *
 * <p><b>Device</b> (USB 2.0 9.6.1): USB 3.0, class in the interface, EP0 packets of 8 bytes,
 * vendor 0xFB5D product 0x0001, strings 1-3, one configuration.
 *
 * <p><b>Configuration</b> (9.6.3), returned as one block of 40 bytes with what follows it:
 * configuration 1 (bus powered, remote wake-up, string 4); interface 0 of class HID (3),
 * subclass boot (1), protocol mouse (2); the HID descriptor (HID 1.11, 6.2.1: one report
 * descriptor; its bcdHID bytes are bhyve's, which no driver checks); endpoint 0x81, interrupt IN, 8-byte packets, bInterval 10; and the SuperSpeed
 * endpoint companion (USB 3.2 9.6.7) a USB 3 device puts after each endpoint.
 *
 * <p><b>Report descriptor</b> (HID 1.11, 6.2.2), an absolute pointer: three buttons and five
 * bits of padding, X and Y as 16-bit absolute values 0-0x7FFF, a relative 8-bit wheel (-127 to
 * 127). Its input report is therefore 6 bytes: {@code buttons, X lo, X hi, Y lo, Y hi, wheel}.
 *
 * <p><b>BOS</b> (USB 3.2 9.6.2): one SuperSpeed USB device capability (5 Gb/s, U1/U2 exit
 * latencies). <b>Strings</b>: language 0x0409, "BHYVE", "HID Tablet", "01", "HID Tablet
 * Device" in UTF-16LE.
 */
final class TabletDescriptors {
    static final int DEVICE = 1, CONFIGURATION = 2, STRING = 3, BOS = 15, HID = 0x21, REPORT = 0x22;

    static final byte[] REPORT_DESCRIPTOR = bytes(
            0x05, 0x01,          // usage page (generic desktop)
            0x09, 0x02,          // usage (mouse)
            0xA1, 0x01,          // collection (application)
            0x09, 0x01,          //   usage (pointer)
            0xA1, 0x00,          //   collection (physical)
            0x05, 0x09,          //     usage page (button)
            0x19, 0x01,          //     usage minimum (button 1)
            0x29, 0x03,          //     usage maximum (button 3)
            0x15, 0x00,          //     logical minimum (0)
            0x25, 0x01,          //     logical maximum (1)
            0x75, 0x01,          //     report size (1)
            0x95, 0x03,          //     report count (3)
            0x81, 0x02,          //     input (data, variable, absolute): the buttons
            0x75, 0x05,          //     report size (5)
            0x95, 0x01,          //     report count (1)
            0x81, 0x03,          //     input (constant): padding
            0x05, 0x01,          //     usage page (generic desktop)
            0x09, 0x30,          //     usage (X)
            0x09, 0x31,          //     usage (Y)
            0x35, 0x00,          //     physical minimum (0)
            0x46, 0xFF, 0x7F,    //     physical maximum (0x7FFF)
            0x15, 0x00,          //     logical minimum (0)
            0x26, 0xFF, 0x7F,    //     logical maximum (0x7FFF)
            0x75, 0x10,          //     report size (16)
            0x95, 0x02,          //     report count (2)
            0x81, 0x02,          //     input (data, variable, absolute): X, Y
            0x05, 0x01,          //     usage page (generic desktop)
            0x09, 0x38,          //     usage (wheel)
            0x35, 0x00,          //     physical minimum (0)
            0x45, 0x00,          //     physical maximum (0)
            0x15, 0x81,          //     logical minimum (-127)
            0x25, 0x7F,          //     logical maximum (127)
            0x75, 0x08,          //     report size (8)
            0x95, 0x01,          //     report count (1)
            0x81, 0x06,          //     input (data, variable, relative): the wheel
            0xC0,                //   end collection
            0xC0);               // end collection

    static final byte[] DEVICE_DESCRIPTOR = bytes(
            18, DEVICE, 0x00, 0x03,  // bLength, bDescriptorType, bcdUSB 3.0
            0, 0, 0, 8,              // class, subclass, protocol (per interface), bMaxPacketSize0
            0x5D, 0xFB, 0x01, 0x00,  // idVendor 0xFB5D, idProduct 0x0001
            0x00, 0x00,              // bcdDevice
            1, 2, 3,                 // iManufacturer, iProduct, iSerialNumber
            1);                      // bNumConfigurations

    static final byte[] HID_DESCRIPTOR = bytes(
            9, HID, 0x01, 0x10,      // bcdHID as bhyve writes it (bytes 01 10; HID 1.10 would be 10 01)
            0, 1, REPORT,            // country, one class descriptor: the report descriptor
            REPORT_DESCRIPTOR.length, 0);

    static final byte[] CONFIGURATION_DESCRIPTOR = concat(
            bytes(9, CONFIGURATION, 40, 0,   // wTotalLength: everything below
                    1, 1, 4,                 // bNumInterfaces, bConfigurationValue, iConfiguration
                    0xA0, 0),                // bus powered | remote wake-up, bMaxPower
            bytes(9, 4, 0, 0, 1,             // interface 0, alternate 0, one endpoint
                    3, 1, 2, 0),             // HID, boot subclass, mouse protocol, no string
            HID_DESCRIPTOR,
            bytes(7, 5, 0x81, 0x03,          // endpoint 1 IN, interrupt
                    8, 0, 10),               // wMaxPacketSize 8, bInterval 10
            bytes(6, 0x30, 0, 0, 0, 0));     // SuperSpeed companion: no burst, no payload hint

    static final byte[] BOS_DESCRIPTOR = concat(
            bytes(5, BOS, 15, 0, 1),         // wTotalLength 15, one device capability
            bytes(10, 0x10, 3, 0,            // SuperSpeed USB capability, no LTM
                    0x08, 0x00, 3,           // speeds supported: 5 Gb/s; full functionality from it
                    0x0A, 0x20, 0x00));      // U1 exit latency 10 µs, U2 32 µs

    private static final String[] STRINGS = {null, "BHYVE", "HID Tablet", "01", "HID Tablet Device"};

    private TabletDescriptors() {}

    /** String descriptor {@code index} (0: the language list), or null if there is none. */
    static byte[] string(int index) {
        if (index == 0) {
            return bytes(4, STRING, 0x09, 0x04);   // English (United States)
        }
        if (index >= STRINGS.length) {
            return null;
        }
        byte[] text = STRINGS[index].getBytes(StandardCharsets.UTF_16LE);
        byte[] d = new byte[2 + text.length];
        d[0] = (byte) d.length;
        d[1] = STRING;
        System.arraycopy(text, 0, d, 2, text.length);
        return d;
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
