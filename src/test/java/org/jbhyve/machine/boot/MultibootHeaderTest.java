package org.jbhyve.machine.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class MultibootHeaderTest {
    private static Optional<MultibootHeader> find(byte[] image) {
        return MultibootHeader.find(image, "k");
    }

    @Test
    void headerIsFoundAtAnyAlignedOffsetWithinTheFirst8KiB() {
        assertEquals(0, find(MultibootImages.header(0)).orElseThrow().offset());
        assertEquals(0x1000, find(MultibootImages.filled(0x3000, 0x1000, MultibootImages.header(0))).orElseThrow().offset());
        byte[] last = MultibootImages.filled(8192, 8192 - 12, MultibootImages.header(3));
        MultibootHeader h = find(last).orElseThrow();
        assertEquals(8180, h.offset(), "a header ending exactly at 8 KiB still counts");
        assertEquals(3, h.flags());
        assertEquals(false, h.hasAddressFields());
    }

    @Test
    void misalignedTruncatedOrLateHeadersAreNotHeaders() {
        assertTrue(find(MultibootImages.filled(0x2000, 0x102, MultibootImages.header(0))).isEmpty(), "misaligned");
        assertTrue(find(MultibootImages.filled(0x3000, 8192, MultibootImages.header(0))).isEmpty(), "beyond 8 KiB");
        assertTrue(find(MultibootImages.filled(0x3000, 8184, MultibootImages.header(0))).isEmpty(),
                "straddling the 8 KiB limit");
        byte[] truncated = new byte[8];
        System.arraycopy(MultibootImages.header(0), 0, truncated, 0, 8);
        assertTrue(find(truncated).isEmpty(), "file ends inside the header");
        assertTrue(find(new byte[0]).isEmpty());
    }

    @Test
    void aBadChecksumIsNotAHeaderButALaterGoodOneIs() {
        byte[] bad = MultibootImages.header(0);
        bad[8]++;
        assertTrue(find(MultibootImages.filled(0x1000, 0x10, bad)).isEmpty());
        byte[] image = MultibootImages.filled(0x1000, 0x10, bad);
        System.arraycopy(MultibootImages.header(2), 0, image, 0x40, 12);
        assertEquals(0x40, find(image).orElseThrow().offset());
    }

    @Test
    void addressFieldsAreReadWhenFlagBit16IsSet() {
        byte[] header = MultibootImages.addressHeader(0, 0x100040, 0x100000, 0x101000, 0x102000, 0x100080);
        MultibootHeader h = find(MultibootImages.filled(0x1000, 0x40, header)).orElseThrow();
        assertEquals(new MultibootHeader(0x40, 0x10000, 0x100040, 0x100000, 0x101000, 0x102000, 0x100080), h);
        assertTrue(h.hasAddressFields());
        byte[] high = MultibootImages.addressHeader(0, 0xFFFF_F000L, 0xFFFF_0000L, 0, 0, 0xFFFF_F010L);
        assertEquals(0xFFFF_F000L, find(high).orElseThrow().headerAddress(), "fields are unsigned");
    }

    @Test
    void addressFieldsBeyond8KiBAreAnError() {
        byte[] image = MultibootImages.filled(0x3000, 8192 - 16,
                MultibootImages.addressHeader(0, 0x100000, 0x100000, 0, 0, 0x100000));
        BootException e = assertThrows(BootException.class, () -> find(image));
        assertEquals("k: multiboot header address fields lie beyond the first 8 KiB", e.getMessage());
    }

    @Test
    void videoModeAndOptionalBitsAreIgnoredUnknownRequiredBitsRefused() {
        assertEquals(0x4 | 0x20000, find(MultibootImages.header(0x4 | 0x20000)).orElseThrow().flags());
        for (int bit = 3; bit < 16; bit++) {
            int flags = 1 << bit;
            BootException e = assertThrows(BootException.class, () -> find(MultibootImages.header(flags)));
            assertEquals(String.format("k: multiboot header requires unsupported features (flags 0x%x)", flags),
                    e.getMessage());
        }
    }
}
