package org.jbhyve.backend.net;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.jbhyve.digest.Md5;
import org.jbhyve.text.Chars;

/**
 * A unicast Ethernet address, parsed from {@code mac=} or generated the way bhyve does.
 *
 * <p>bhyve's {@code net_genmac}: the NetApp OUI {@code 00:a0:98} followed by the first three
 * bytes of the MD5 of {@code "<slot>-<function>-<vmname>"} (printf {@code "%d-%d-%s"} with the
 * PCI slot and function numbers), so a VM keeps the address it had under bhyve.
 * {@code net_parsemac} refuses what {@code ether_aton} cannot read, multicast addresses (bit 0
 * of the first octet) and the all-zero address.
 */
public final class MacAddress {
    public static final int LENGTH = 6;
    private static final HexFormat HEX = HexFormat.ofDelimiter(":");

    private final byte[] octets;

    private MacAddress(byte[] octets) {
        this.octets = octets;
    }

    /**
     * Parses {@code xx:xx:xx:xx:xx:xx} (one or two hex digits per octet, as ether_aton takes).
     * Throws {@link NetBackendException} for anything else, multicast or all-zero addresses.
     */
    public static MacAddress parse(String text) {
        String[] parts = text.split(":", -1);
        byte[] b = new byte[LENGTH];
        boolean ok = parts.length == LENGTH;
        for (int i = 0; ok && i < LENGTH; i++) {
            String p = parts[i];
            ok = !p.isEmpty() && p.length() <= 2 && Chars.all(p, c -> Character.digit(c, 16) >= 0);
            if (ok) {
                b[i] = (byte) Integer.parseInt(p, 16);
            }
        }
        if (!ok) {
            throw new NetBackendException("invalid MAC address '" + text + "': expected six hex octets like 00:a0:98:12:34:56");
        }
        if ((b[0] & 1) != 0) {
            throw new NetBackendException("invalid MAC address '" + text + "': it is a multicast address (bit 0 of the first octet is set)");
        }
        if (Arrays.equals(b, new byte[LENGTH])) {
            throw new NetBackendException("invalid MAC address '" + text + "': the all-zero address is not allowed");
        }
        return new MacAddress(b);
    }

    /** bhyve's default address for the NIC at PCI {@code slot}.{@code function} of {@code vmName}. */
    public static MacAddress generate(int slot, int function, String vmName) {
        byte[] digest = Md5.digest((slot + "-" + function + "-" + vmName).getBytes(StandardCharsets.UTF_8));
        return new MacAddress(new byte[] {0x00, (byte) 0xa0, (byte) 0x98, digest[0], digest[1], digest[2]});
    }

    /** The address from six octets (no checks: for addresses the device itself reads back). */
    public static MacAddress of(byte[] octets) {
        if (octets.length != LENGTH) {
            throw new IllegalArgumentException("a MAC address has 6 octets");
        }
        return new MacAddress(octets.clone());
    }

    public byte[] octets() {
        return octets.clone();
    }

    public int octet(int i) {
        return Byte.toUnsignedInt(octets[i]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress m && Arrays.equals(octets, m.octets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(octets);
    }

    /** Lower-case {@code 00:a0:98:xx:xx:xx}. */
    @Override
    public String toString() {
        return HEX.formatHex(octets);
    }
}
