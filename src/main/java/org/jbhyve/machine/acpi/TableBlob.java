package org.jbhyve.machine.acpi;

import java.util.List;

/**
 * Bytes to be copied into guest RAM at a guest-physical address.
 *
 * @param name short label for logs and tests ("RSDP", "DSDT", "SMBIOS", "MPTABLE", ...)
 * @param guestPhysicalAddress where the first byte goes
 * @param bytes the content; callers must not modify it
 */
public record TableBlob(String name, long guestPhysicalAddress, byte[] bytes) {

    /** Receives table bytes; the machine implements it over guest memory. */
    @FunctionalInterface
    public interface GuestWriter {
        void write(long guestPhysicalAddress, byte[] bytes);
    }

    public long end() {
        return guestPhysicalAddress + bytes.length;
    }

    public static void writeAll(List<TableBlob> blobs, GuestWriter writer) {
        for (TableBlob b : blobs) {
            writer.write(b.guestPhysicalAddress, b.bytes);
        }
    }

    @Override
    public String toString() {
        return "%s@0x%x[%d]".formatted(name, guestPhysicalAddress, bytes.length);
    }
}
