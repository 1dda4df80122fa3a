package org.jbhyve.backend.net;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * What a NIC emulation (e1000, virtio-net) takes from its config node: the backend
 * ({@code backend=}, what {@code -s 2,e1000,tap0} stores), the MAC address ({@code mac=}, or
 * bhyve's generated one) and the MTU ({@code mtu=}, announced by virtio-net).
 */
public record NetConfig(NetBackend backend, MacAddress mac, OptionalInt mtu) {
    /** bhyve's VTNET_MIN_MTU (ETHERMIN) and VTNET_MAX_MTU. */
    public static final int MIN_MTU = 46;
    public static final int MAX_MTU = 65535;

    /**
     * Reads the node through {@code option} (key to value), checks {@code mac=} and {@code mtu=}
     * before touching the host, then opens the backend. {@code slot} and {@code function} are
     * the PCI location that seeds the default MAC. Errors are {@link NetBackendException}s whose
     * one-line message starts with {@code device}.
     */
    public static NetConfig open(String device, Function<String, Optional<String>> option, int slot, int function,
                                 String vmName) {
        MacAddress mac;
        try {
            mac = option.apply("mac").map(MacAddress::parse).orElseGet(() -> MacAddress.generate(slot, function, vmName));
        } catch (NetBackendException e) {
            throw new NetBackendException(device + ": " + e.getMessage(), e);
        }
        OptionalInt mtu = option.apply("mtu").map(v -> OptionalInt.of(parseMtu(device, v))).orElse(OptionalInt.empty());
        NetBackend backend = NetBackends.open(device, option.apply("backend").orElse(null), mtu);
        return new NetConfig(backend, mac, mtu);
    }

    /** strtoul(value, 0) as bhyve's net_parsemtu, then the range virtio-net accepts. */
    static int parseMtu(String device, String value) {
        long v;
        try {
            String t = value.trim();
            if (t.startsWith("-") || t.startsWith("+") || t.isEmpty()) {
                throw new NumberFormatException();
            }
            if (t.startsWith("0x") || t.startsWith("0X")) {
                v = Long.parseLong(t.substring(2), 16);
            } else if (t.length() > 1 && t.startsWith("0")) {
                v = Long.parseLong(t.substring(1), 8);
            } else {
                v = Long.parseLong(t);
            }
        } catch (NumberFormatException e) {
            throw new NetBackendException(device + ": invalid MTU '" + value + "': not a number");
        }
        if (v < MIN_MTU || v > MAX_MTU) {
            throw new NetBackendException(device + ": invalid MTU " + value + ": must be between " + MIN_MTU + " and " + MAX_MTU);
        }
        return (int) v;
    }
}
