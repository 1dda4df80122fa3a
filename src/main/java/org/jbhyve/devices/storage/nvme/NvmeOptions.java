package org.jbhyve.devices.storage.nvme;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;

/**
 * The {@code nvme} options as bhyve parses them (pci_nvme.c, pci_nvme_parse_config):
 *
 * <pre>
 * path=FILE | ram=MiB   the namespace: a disk image or block device (with the block backend's
 *                       ro, nocache, direct, sectorsize=, nodelete), or host memory
 * maxq=1..16            I/O queue pairs (default 16); MSI-X gets maxq + 1 vectors
 * qsz=2..65536          entries per queue, CAP.MQES + 1 (default 2048)
 * ioslots=1..65535      commands in flight on the I/O queues (default 8)
 * sectsz=512|4096|8192  LBA size (default: the backend's sector size, 4096 for ram=)
 * ser=TEXT              serial number, 20 characters (default NVME-SLOT-FUNC)
 * eui64=N               namespace EUI-64 (C number syntax; default derived from the VM name and
 *                       PCI address: FreeBSD's NVMe OUI block, a CRC-16 and the namespace id)
 * dsm=auto|enable|disable  Dataset Management in ONCS: as the backend can delete, or forced
 * </pre>
 * Invalid values are refused with one line, as current bhyve does.
 */
public record NvmeOptions(String path, long ramMiB, int maxQueues, int queueEntries, int ioSlots, int sectorSize,
                          String serial, long eui64, Dsm dsm, String vmName, int bus, int slot, int function) {
    public static final int MAX_QUEUES = 16;
    public static final int DEFAULT_ENTRIES = 2048;
    public static final int DEFAULT_IOSLOTS = 8;
    /** FreeBSD's OUI block for emulated NVMe devices (net/ieee_oui.h OUI_FREEBSD_NVME_LOW). */
    static final long OUI_FREEBSD_NVME_LOW = 0x589cfc200000L;

    public enum Dsm { AUTO, ENABLE, DISABLE }

    /**
     * Reads the options from a device node ({@code key} returns a key's value) of the function at
     * {@code bus:slot:function} in VM {@code vmName}; an invalid value is an
     * {@link IllegalArgumentException} with a one-line message.
     */
    public static NvmeOptions parse(Function<String, Optional<String>> key, String vmName, int bus, int slot,
                                    int function) {
        Optional<String> ram = key.apply("ram");
        Optional<String> path = key.apply("path");
        if (ram.isEmpty() && path.isEmpty()) {
            throw new IllegalArgumentException("nvme needs a disk image path or ram=MiB");
        }
        long ramMiB = ram.map(v -> number("ram", v, 10, 1, 1L << 22).longValue()).orElse(0L);
        int maxq = key.apply("maxq").map(v -> number("maxq", v, 10, 1, MAX_QUEUES).intValue()).orElse(MAX_QUEUES);
        int qsz = key.apply("qsz").map(v -> number("qsz", v, 10, 2, 65536).intValue()).orElse(DEFAULT_ENTRIES);
        int ioslots = key.apply("ioslots").map(v -> number("ioslots", v, 10, 1, 65535).intValue())
                .orElse(DEFAULT_IOSLOTS);
        int sectsz = key.apply("sectsz").map(v -> {
            int s = number("sectsz", v, 10, 512, 8192).intValue();
            if (s != 512 && s != 4096 && s != 8192) {
                throw new IllegalArgumentException("invalid sectsz option: " + v + " (512, 4096 or 8192)");
            }
            return s;
        }).orElse(0);
        String serial = key.apply("ser").orElse("NVME-" + slot + "-" + function);
        long eui64 = key.apply("eui64").map(v -> number("eui64", v, 0, 0, -1).longValue()).orElse(0L);
        Dsm dsm = key.apply("dsm").map(v -> switch (v) {
            case "auto" -> Dsm.AUTO;
            case "enable" -> Dsm.ENABLE;
            case "disable" -> Dsm.DISABLE;
            default -> throw new IllegalArgumentException("invalid dsm option: " + v + " (auto, enable or disable)");
        }).orElse(Dsm.AUTO);
        return new NvmeOptions(ram.isPresent() ? null : path.get(), ramMiB, maxq, qsz, ioslots, sectsz, serial, eui64,
                dsm, vmName == null ? "" : vmName, bus, slot, function);
    }

    /** The namespace's EUI-64: the eui64= value, or bhyve's derived one for namespace 1. */
    long namespaceEui64() {
        if (eui64 != 0) {
            return eui64;
        }
        byte[] text = (vmName + bus + slot + function).getBytes(StandardCharsets.UTF_8);
        return (OUI_FREEBSD_NVME_LOW | crc16(text)) << 16 | 1;
    }

    /** The Identify Controller SUBNQN current bhyve reports. */
    String subsystemNqn() {
        return "nqn.2013-12.org.freebsd:bhyve-" + vmName + "-" + bus + "-" + slot + "-" + function;
    }

    /** CRC-16 with polynomial 8005h, reflected, initial value 0 (the table in pci_nvme.c). */
    static int crc16(byte[] data) {
        int crc = 0;
        for (byte b : data) {
            crc ^= b & 0xFF;
            for (int i = 0; i < 8; i++) {
                crc = (crc & 1) != 0 ? crc >>> 1 ^ 0xA001 : crc >>> 1;
            }
        }
        return crc;
    }

    /**
     * An unsigned number in {@code [min, max]} (max -1: any 64-bit value) written in {@code base}
     * (0: C's rules, 0x hex, leading 0 octal).
     */
    private static BigInteger number(String name, String text, int base, long min, long max) {
        String t = text.trim();
        int radix = 10;
        if (base == 0 && t.length() > 2 && (t.startsWith("0x") || t.startsWith("0X"))) {
            radix = 16;
            t = t.substring(2);
        } else if (base == 0 && t.length() > 1 && t.startsWith("0")) {
            radix = 8;
            t = t.substring(1);
        }
        try {
            if (t.isEmpty() || t.startsWith("-") || t.startsWith("+")) {
                throw new NumberFormatException();
            }
            BigInteger v = new BigInteger(t, radix);
            BigInteger hi = max == -1 ? BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE) : BigInteger.valueOf(max);
            if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(hi) > 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + name + " option: " + text);
        }
    }
}
