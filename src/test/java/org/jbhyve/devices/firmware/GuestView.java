package org.jbhyve.devices.firmware;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest's view of a {@link CfiFlash} as the integrator sets it up: while the device says
 * "array mode" a read-only memory slot over the contents answers byte reads without the device
 * (as KVM would); otherwise reads trap to the device. Writes always trap. Records every
 * {@link CfiFlash.RomMode} call.
 */
class GuestView implements CfiFlash.RomMode {
    final MemorySegment contents;
    final List<Boolean> calls = new ArrayList<>();
    final CfiFlash flash;
    private boolean slotMapped = true;

    GuestView(MemorySegment contents, boolean writeProtected) {
        this.contents = contents;
        this.flash = new CfiFlash(contents, CfiFlash.QEMU_PC_BLOCK_SIZE, writeProtected, this);
    }

    static GuestView of(byte[] bytes) {
        return new GuestView(MemorySegment.ofArray(bytes), false);
    }

    @Override
    public void arrayMode(boolean direct) {
        calls.add(direct);
        slotMapped = direct;
    }

    boolean slotMapped() {
        return slotMapped;
    }

    /** A one-byte guest load. */
    int readByte(long offset) {
        if (slotMapped) {
            return contents.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
        }
        return (int) flash.read(offset, 1);
    }

    /** A one-byte guest store. */
    void writeByte(long offset, int value) {
        flash.write(offset, 1, value & 0xFF);
    }

    /** The outcomes of edk2 OvmfPkg QemuFlashDetected. */
    enum Probe { FLASH, ROM, RAM, NO_PROBE_LOCATION, UNKNOWN }

    /**
     * Replays QemuFlashDetected against block 0: find the first byte that is none of 0x50, 0x70,
     * 0x00; write CLEAR STATUS and read back; then READ STATUS and read back; leave the chip in
     * read-array mode if it is flash (restore the byte if it is RAM).
     */
    Probe ovmfProbe(int blockSize) {
        long at = 0;
        while (at < blockSize) {
            int b = readByte(at);
            if (b != 0x50 && b != 0x70 && b != 0x00) {
                break;
            }
            at++;
        }
        if (at >= blockSize) {
            return Probe.NO_PROBE_LOCATION;
        }
        int original = readByte(at);
        writeByte(at, 0x50);
        int probe = readByte(at);
        if (original != 0x50 && probe == 0x50) {
            writeByte(at, original);
            return Probe.RAM;
        }
        writeByte(at, 0x70);
        probe = readByte(at);
        if (probe == original) {
            return Probe.ROM;
        } else if (probe == 0x70) {
            writeByte(at, original);
            return Probe.RAM;
        } else if (probe == 0x00) {
            writeByte(at, 0xFF);
            return Probe.FLASH;
        }
        return Probe.UNKNOWN;
    }

    /** QemuFlashWrite: WRITE BYTE and the byte for each byte, then READ ARRAY at the last one. */
    void ovmfWrite(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            writeByte(offset + i, 0x10);
            writeByte(offset + i, data[i]);
        }
        if (data.length > 0) {
            writeByte(offset + data.length - 1, 0xFF);
        }
    }

    /** QemuFlashEraseBlock: BLOCK ERASE and CONFIRM at the block's first byte (no READ ARRAY). */
    void ovmfErase(int block) {
        long at = (long) block * flash.blockSize();
        writeByte(at, 0x20);
        writeByte(at, 0xD0);
    }
}
