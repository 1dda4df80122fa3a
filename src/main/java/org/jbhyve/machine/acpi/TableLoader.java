package org.jbhyve.machine.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * QEMU's ACPI "linker/loader" script, the fw_cfg file {@code etc/table-loader} that SeaBIOS
 * ({@code romfile_loader_execute}) and OVMF ({@code InstallQemuFwCfgTables}) run to install
 * tables handed over as fw_cfg files. Firmware, not the VMM, decides where tables live, so
 * pointers between them are written as offsets into their file and patched by the firmware.
 *
 * <p>Each command is 128 bytes, little-endian, a u32 command then its arguments; file names are
 * 56-byte NUL-padded fields:
 * <pre>
 * 1 ALLOCATE     file, u32 alignment, u8 zone (1 = anywhere in high memory, 2 = F segment)
 * 2 ADD_POINTER  dest file, src file, u32 offset in dest, u8 size (1, 2, 4, 8):
 *                the value at dest+offset is an offset into src; add src's address to it
 * 3 ADD_CHECKSUM file, u32 checksum offset, u32 start, u32 length: make bytes [start,
 *                start+length) sum to zero by setting the checksum byte (zero before)
 * </pre>
 * Files must be allocated before any command names them.
 */
public final class TableLoader {
    public static final int ALLOCATE = 1, ADD_POINTER = 2, ADD_CHECKSUM = 3;
    public static final int ZONE_HIGH = 1, ZONE_FSEG = 2;
    public static final int COMMAND_SIZE = 128;
    static final int NAME = 56;

    private final ByteArrayOutputStream script = new ByteArrayOutputStream();

    public TableLoader allocate(String file, int alignment, int zone) {
        ByteBuffer c = command(ALLOCATE);
        name(c, file);
        c.putInt(alignment).put((byte) zone);
        return add(c);
    }

    public TableLoader addPointer(String destination, String source, int offset, int size) {
        ByteBuffer c = command(ADD_POINTER);
        name(c, destination);
        name(c, source);
        c.putInt(offset).put((byte) size);
        return add(c);
    }

    public TableLoader addChecksum(String file, int checksumOffset, int start, int length) {
        ByteBuffer c = command(ADD_CHECKSUM);
        name(c, file);
        c.putInt(checksumOffset).putInt(start).putInt(length);
        return add(c);
    }

    public byte[] toByteArray() {
        return script.toByteArray();
    }

    private static ByteBuffer command(int type) {
        return ByteBuffer.allocate(COMMAND_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(type);
    }

    private static void name(ByteBuffer c, String file) {
        byte[] n = file.getBytes(StandardCharsets.US_ASCII);
        if (n.length >= NAME) {
            throw new IllegalArgumentException("loader file name too long: " + file);
        }
        c.put(n).put(new byte[NAME - n.length]);
    }

    private TableLoader add(ByteBuffer c) {
        script.writeBytes(c.array());
        return this;
    }
}
