package org.jbhyve.machine.boot;

import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Malformed kernels fail as {@link BootException} (one line for the user), never anything else. */
class ElfImagePropertiesTest {
    private static final byte[] VALID = TestImages.elf64(0x200000, new byte[64], 0x200000, 0x200000);

    @Property(tries = 2000)
    void corruptedHeadersFailCleanly(@ForAll @IntRange(min = 0, max = 0x1FF) int offset, @ForAll byte value,
                                     @ForAll @IntRange(min = 0, max = 0x1FF) int offset2, @ForAll byte value2) {
        byte[] image = VALID.clone();
        image[offset] = value;
        image[offset2] = value2;
        parse(image);
    }

    @Property(tries = 500)
    void truncatedImagesFailCleanly(@ForAll @IntRange(min = 0, max = 0x240) int length) {
        parse(Arrays.copyOf(VALID, length));
    }

    @Property(tries = 500)
    void randomBytesWithElfMagicFailCleanly(@ForAll @Size(min = 4, max = 600) byte[] bytes) {
        bytes[0] = 0x7F;
        bytes[1] = 'E';
        bytes[2] = 'L';
        bytes[3] = 'F';
        parse(bytes);
    }

    private static void parse(byte[] image) {
        try {
            ElfImage elf = ElfImage.parse(image, "kernel");
            elf.segments().forEach(s -> {
                if (s.offset() + s.fileSize() > image.length) {
                    throw new AssertionError("segment escapes the file: " + s);
                }
            });
        } catch (BootException expected) {
            // the only acceptable failure
        }
    }
}
