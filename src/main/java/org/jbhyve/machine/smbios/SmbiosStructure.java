package org.jbhyve.machine.smbios;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.machine.acpi.LeBuffer;

/**
 * One SMBIOS structure being built: a formatted area (type, length, handle, then fields)
 * followed by its string set. Strings are referenced from the formatted area by 1-based
 * index (0 = no string); each string ends with a NUL and the set ends with one more NUL,
 * so a structure without strings ends with two NULs.
 */
final class SmbiosStructure {
    final int type;
    final int handle;
    final LeBuffer formatted = new LeBuffer();
    private final List<String> strings = new ArrayList<>();

    SmbiosStructure(int type, int handle) {
        this.type = type;
        this.handle = handle;
        formatted.u8(type).u8(0).u16(handle);
    }

    /** Adds a string and returns its index; null or empty strings are "no string" (0). */
    int string(String s) {
        if (s == null || s.isEmpty()) {
            return 0;
        }
        strings.add(s);
        return strings.size();
    }

    /** Adds a string field: writes the string's index as the next formatted byte. */
    SmbiosStructure str(String s) {
        formatted.u8(string(s));
        return this;
    }

    byte[] toBytes() {
        formatted.putU8(1, formatted.size());
        LeBuffer out = new LeBuffer().bytes(formatted.toByteArray());
        for (String s : strings) {
            // printable ASCII only: anything else (and NUL) would corrupt the string set
            byte[] b = s.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < b.length; i++) {
                if (b[i] < 0x20 || b[i] == 0x7F) {
                    b[i] = '?';
                }
            }
            out.bytes(b).u8(0);
        }
        if (strings.isEmpty()) {
            out.u8(0);
        }
        out.u8(0);
        return out.toByteArray();
    }
}
