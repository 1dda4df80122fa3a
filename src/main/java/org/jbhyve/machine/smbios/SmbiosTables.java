package org.jbhyve.machine.smbios;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jbhyve.digest.Md5;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.machine.acpi.LeBuffer;
import org.jbhyve.machine.acpi.PlatformDescription;
import org.jbhyve.machine.acpi.TableBlob;

/**
 * SMBIOS tables as bhyve's smbiostbl.c builds them, at {@link #BASE} (0xF1000, up to the
 * ACPI tables at 0xF2400); a structure table too long for that goes elsewhere ({@link #place}).
 *
 * <h2>Entry points</h2>
 * <pre>
 * 2.x (31 bytes, what bhyve writes, version 2.6):
 *  0 "_SM_"  4 checksum (all 31 bytes)  5 length 0x1F  6 major  7 minor
 *  8 max structure size (2)  10 entry point revision  11 formatted area[5]
 * 16 "_DMI_" 21 intermediate checksum (bytes 16-30)  22 table length (2)
 * 24 table address (4)  28 number of structures (2)  30 BCD revision
 * 3.x (24 bytes, optional):
 *  0 "_SM3_" 5 checksum  6 length 0x18  7 major  8 minor  9 docrev  10 revision 1
 * 11 reserved  12 table maximum size (4)  16 table address (8)
 * </pre>
 * The structure table follows the 2.x entry point; the 3.x entry point, when asked for,
 * follows the structure table on a 16-byte boundary (the guest scans for both anchors).
 *
 * <h2>Structures, handles from 1 in this order</h2>
 * 0 BIOS, 1 system, 2 baseboard, 3 chassis, 4 processor (one per socket, "CPU #n"),
 * 16 physical memory array, 17 memory device (all RAM), 19 memory array mapped address
 * (one per RAM range), 32 system boot, 127 end of table.
 *
 * <h2>Strings</h2>
 * bhyve's defaults, each overridable by its bhyve_config(5) key: see {@link #DEFAULTS}.
 */
public final class SmbiosTables {
    private SmbiosTables() {}

    public static final long BASE = 0xF1000;
    public static final long LIMIT = 0xF2400;
    static final int EP2_LENGTH = 0x1F, EP3_LENGTH = 0x18;
    static final int MAJOR = 2, MINOR = 6;

    /** bhyve_config keys and bhyve's default values. */
    public static final Map<String, String> DEFAULTS = Map.ofEntries(
            Map.entry("bios.vendor", "BHYVE"),
            Map.entry("bios.version", "14.0"),
            Map.entry("bios.release_date", "10/17/2021"),
            Map.entry("system.manufacturer", "FreeBSD"),
            Map.entry("system.product_name", "BHYVE"),
            Map.entry("system.version", "1.0"),
            Map.entry("system.serial_number", "None"),
            Map.entry("system.sku", "None"),
            Map.entry("system.family_name", "Virtual Machine"),
            Map.entry("board.manufacturer", "FreeBSD"),
            Map.entry("board.product_name", "BHYVE"),
            Map.entry("board.version", "1.0"),
            Map.entry("board.serial_number", "None"),
            Map.entry("board.asset_tag", "None"),
            Map.entry("board.location", "None"),
            Map.entry("chassis.manufacturer", "FreeBSD"),
            Map.entry("chassis.version", "1.0"),
            Map.entry("chassis.serial_number", "None"),
            Map.entry("chassis.asset_tag", "None"),
            Map.entry("chassis.sku", "None"));

    /** Builds bhyve's tables: the 2.x entry point only. */
    public static TableBlob build(PlatformDescription p, Map<String, String> config, String hostName) {
        return build(p, config, hostName, false);
    }

    /**
     * @param config bhyve_config values; keys other than those in {@link #DEFAULTS} are ignored
     * @param hostName host name for the default UUID (used when {@code p.uuid()} is null)
     * @param withSmbios3 also write a 3.0 ("_SM3_") entry point
     */
    public static TableBlob build(PlatformDescription p, Map<String, String> config, String hostName,
            boolean withSmbios3) {
        Structures st = structureTable(p, config, hostName);
        LeBuffer table = st.table();
        int maxSize = st.maxSize();
        List<SmbiosStructure> list = st.list();
        long tableAddr = BASE + EP2_LENGTH;

        LeBuffer out = entryPoint2(maxSize, table.size(), tableAddr, list.size());
        out.bytes(table.toByteArray());
        if (withSmbios3) {
            out.align(16);
            out.bytes(entryPoint3(table.size(), tableAddr).toByteArray());
        }
        if (BASE + out.size() > LIMIT) {
            throw new IllegalStateException("SMBIOS tables overflow into ACPI: " + out.size());
        }
        return new TableBlob("SMBIOS", BASE, out.toByteArray());
    }

    /**
     * bhyve's layout when it fits below {@link #LIMIT} (what {@link #build(PlatformDescription, Map, String)}
     * writes); otherwise the entry point stays at {@link #BASE}, where guests scan for it, and the
     * structure table goes to {@code tableAddress}: one processor structure per socket makes it
     * outgrow bhyve's 5 KiB from about 67 sockets. A 2.x entry point holds a table of up to
     * 65535 bytes; a longer one (about 900 sockets) is announced by a 3.0 entry point
     * ("_SM3_", a 32-bit maximum size and a 64-bit address) alone.
     *
     * @return the entry point blob first, then the structure table's when it moved
     */
    public static List<TableBlob> place(PlatformDescription p, Map<String, String> config, String hostName,
                                        long tableAddress) {
        Structures st = structureTable(p, config, hostName);
        if (BASE + EP2_LENGTH + st.table().size() <= LIMIT) {
            return List.of(build(p, config, hostName));
        }
        int size = st.table().size();
        LeBuffer ep;
        if (size <= 0xFFFF && st.list().size() <= 0xFFFF) {
            ep = entryPoint2(st.maxSize(), size, tableAddress, st.list().size());
        } else {
            ep = entryPoint3(size, tableAddress);
        }
        return List.of(new TableBlob("SMBIOS", BASE, ep.toByteArray()),
                new TableBlob("SMBIOS-TABLE", tableAddress, st.table().toByteArray()));
    }

    private record Structures(List<SmbiosStructure> list, LeBuffer table, int maxSize) {}

    private static Structures structureTable(PlatformDescription p, Map<String, String> config, String hostName) {
        Map<String, String> s = new HashMap<>(DEFAULTS);
        config.forEach((k, v) -> {
            if (DEFAULTS.containsKey(k)) {
                s.put(k, v);
            }
        });
        UUID uuid = p.uuid() != null ? p.uuid() : defaultUuid(hostName, p.vmName());
        List<SmbiosStructure> list = structures(p, s, uuid);
        LeBuffer table = new LeBuffer();
        int maxSize = 0;
        for (SmbiosStructure st : list) {
            byte[] b = st.toBytes();
            maxSize = Math.max(maxSize, b.length);
            table.bytes(b);
        }
        return new Structures(list, table, maxSize);
    }

    /**
     * The entry point and the structure table apart, for firmware that places them itself: QEMU's
     * fw_cfg files {@code etc/smbios/smbios-anchor} (the 2.x entry point, table address 0: the
     * firmware fills it and the checksums in) and {@code etc/smbios/smbios-tables}. No size limit
     * applies: the firmware allocates the space.
     */
    public record FirmwareFiles(byte[] anchor, byte[] tables) {}

    public static FirmwareFiles forFirmware(PlatformDescription p, Map<String, String> config, String hostName) {
        Structures st = structureTable(p, config, hostName);
        int size = st.table().size();
        LeBuffer ep;
        if (size <= 0xFFFF && st.list().size() <= 0xFFFF) {
            ep = entryPoint2(st.maxSize(), size, 0, st.list().size());
        } else { // as QEMU's smbios-entry-point-type=64: firmware that reads it (OVMF, SeaBIOS 1.16.3) copes
            ep = entryPoint3(size, 0);
        }
        return new FirmwareFiles(ep.toByteArray(), st.table().toByteArray());
    }

    /** The 24-byte 3.0 entry point (layout in the class comment), checksum fixed. */
    private static LeBuffer entryPoint3(int tableSize, long tableAddr) {
        LeBuffer ep = new LeBuffer().ascii("_SM3_", 5, ' ').u8(0).u8(EP3_LENGTH).u8(3).u8(0).u8(0).u8(1).u8(0)
                .u32(tableSize).u64(tableAddr);
        ep.fixChecksum(0, EP3_LENGTH, 5);
        return ep;
    }

    /** The 31-byte 2.x entry point (layout in the class comment), checksums fixed. */
    private static LeBuffer entryPoint2(int maxSize, int tableSize, long tableAddr, int count) {
        LeBuffer ep = new LeBuffer();
        ep.ascii("_SM_", 4, ' ').u8(0).u8(EP2_LENGTH).u8(MAJOR).u8(MINOR).u16(maxSize).u8(0).zeros(5)
                .ascii("_DMI_", 5, ' ').u8(0).u16(tableSize).u32(tableAddr).u16(count)
                .u8(MAJOR << 4 | MINOR);
        ep.fixChecksum(0x10, EP2_LENGTH, 0x15);
        ep.fixChecksum(0, EP2_LENGTH, 4);
        return ep;
    }

    static List<SmbiosStructure> structures(PlatformDescription p, Map<String, String> s, UUID uuid) {
        List<SmbiosStructure> list = new ArrayList<>();
        int[] next = {1};
        java.util.function.IntFunction<SmbiosStructure> add = type -> {
            SmbiosStructure st = new SmbiosStructure(type, next[0]++);
            list.add(st);
            return st;
        };

        // type 0: BIOS. Segment 0xF000, characteristics ISA, PCI, shadowing, CD boot, EDD;
        // extension bytes: ACPI; BIOS boot specification, virtual machine.
        SmbiosStructure t0 = add.apply(0);
        t0.str(s.get("bios.vendor")).str(s.get("bios.version"));
        t0.formatted.u16(0xF000);
        t0.str(s.get("bios.release_date"));
        t0.formatted.u8(0).u64(0x10 | 0x80 | 0x1000 | 0x8000 | 0x80000).u8(0x01).u8(0x01 | 0x10)
                .u8(0).u8(0).u8(0xFF).u8(0xFF);

        // type 1: system; wake-up type 6 = power switch
        SmbiosStructure t1 = add.apply(1);
        t1.str(s.get("system.manufacturer")).str(s.get("system.product_name"))
                .str(s.get("system.version")).str(s.get("system.serial_number"));
        t1.formatted.bytes(uuidBytes(uuid)).u8(0x06);
        t1.str(s.get("system.sku")).str(s.get("system.family_name"));

        int chassisHandle = next[0] + 1; // type 3 follows type 2
        // type 2: baseboard; feature flags: hosting board; type 0x0A motherboard
        SmbiosStructure t2 = add.apply(2);
        t2.str(s.get("board.manufacturer")).str(s.get("board.product_name"))
                .str(s.get("board.version")).str(s.get("board.serial_number"))
                .str(s.get("board.asset_tag"));
        t2.formatted.u8(0x01);
        t2.str(s.get("board.location"));
        t2.formatted.u16(chassisHandle).u8(0x0A).u8(0);

        // type 3: chassis; type unknown (2); boot-up, power supply, thermal states safe (3);
        // security none (3)
        SmbiosStructure t3 = add.apply(3);
        if (t3.handle != chassisHandle) {
            throw new IllegalStateException("chassis handle");
        }
        t3.str(s.get("chassis.manufacturer"));
        t3.formatted.u8(0x02);
        t3.str(s.get("chassis.version")).str(s.get("chassis.serial_number"))
                .str(s.get("chassis.asset_tag"));
        t3.formatted.u8(3).u8(3).u8(3).u8(3).u32(0).u8(0).u8(0).u8(0).u8(0);
        t3.str(s.get("chassis.sku"));

        // type 4: one per socket; central processor (3), family other (1), status populated
        // and enabled (0x41), upgrade none (6), no caches, 64-bit capable
        CpuTopology t = p.topology();
        int cores = t.cores() > 254 ? 0 : t.cores();
        int threads = t.cores() * t.threads() > 254 ? 0 : t.cores() * t.threads();
        for (int socket = 0; socket < t.sockets(); socket++) {
            SmbiosStructure t4 = add.apply(4);
            t4.str("CPU #" + socket);
            t4.formatted.u8(0x03).u8(0x01);
            t4.str(" ");
            t4.formatted.u64(0);
            t4.str(" ");
            t4.formatted.u8(0).u16(0).u16(0).u16(0).u8(0x41).u8(0x06)
                    .u16(0xFFFF).u16(0xFFFF).u16(0xFFFF);
            t4.str("None").str("None").str("None");
            t4.formatted.u8(cores).u8(cores).u8(threads).u16(0x04).u16(0x01);
        }

        long total = p.lowMemBytes() + p.highMemBytes();
        // type 16: physical memory array on the system board (3), system memory (3), no ECC (3)
        SmbiosStructure t16 = add.apply(16);
        long totalKb = total / 1024;
        t16.formatted.u8(0x03).u8(0x03).u8(0x03)
                .u32(totalKb < 0x8000_0000L ? totalKb : 0x8000_0000L)
                .u16(0xFFFF).u16(1).u64(totalKb < 0x8000_0000L ? 0 : total);

        // type 17: one device holding all RAM; form factor and type unknown (2)
        SmbiosStructure t17 = add.apply(17);
        long sizeKb = total / 1024;
        long sizeMb = Math.min(total >> 20, 0x7FFF_FFFFL);
        int size;
        long xsize = 0;
        if (sizeKb <= 0x7FFF) {
            size = (int) sizeKb | 0x8000; // bit 15: unit is KiB
        } else if (sizeMb < 0x7FFF) {
            size = (int) sizeMb;
        } else {
            size = 0x7FFF;
            xsize = sizeMb;
        }
        t17.formatted.u16(t16.handle).u16(0xFFFF).u16(64).u16(64).u16(size).u8(0x02).u8(0);
        t17.str(" ").str(" ");
        t17.formatted.u8(0x02).u16(0x0004).u16(0);
        t17.str(" ").str("None").str("None").str("None");
        t17.formatted.u8(0).u32(xsize).u16(0).u16(0).u16(0).u16(0);

        // type 19: one per RAM range; addresses in KiB (inclusive end) or, beyond 4 TiB,
        // 0xFFFFFFFF and the extended byte addresses
        for (long[] r : p.ramRanges()) {
            SmbiosStructure t19 = add.apply(19);
            long startKb = r[0] / 1024;
            long endKb = (r[1] - 1) / 1024;
            if (endKb < 0xFFFF_FFFFL) {
                t19.formatted.u32(startKb).u32(endKb).u16(t16.handle).u8(1).u64(0).u64(0);
            } else {
                t19.formatted.u32(0xFFFF_FFFFL).u32(0xFFFF_FFFFL).u16(t16.handle).u8(1)
                        .u64(r[0]).u64(r[1] - 1);
            }
        }

        // type 32: system boot information, no errors detected
        SmbiosStructure t32 = add.apply(32);
        t32.formatted.zeros(6).u8(0);

        add.apply(127);
        return list;
    }

    /**
     * The 16 bytes of a UUID as SMBIOS 2.6+ stores them: time_low, time_mid and
     * time_hi_and_version little-endian, then clock_seq and node in network order.
     */
    public static byte[] uuidBytes(UUID u) {
        long msb = u.getMostSignificantBits();
        long lsb = u.getLeastSignificantBits();
        LeBuffer b = new LeBuffer().u32(msb >>> 32).u16((int) (msb >>> 16)).u16((int) msb);
        for (int i = 7; i >= 0; i--) {
            b.u8((int) (lsb >>> (8 * i)));
        }
        return b.toByteArray();
    }

    /** Inverse of {@link #uuidBytes}. */
    public static UUID fromSmbiosBytes(byte[] b) {
        long timeLow = (b[0] & 0xFFL) | (b[1] & 0xFFL) << 8 | (b[2] & 0xFFL) << 16 | (b[3] & 0xFFL) << 24;
        long timeMid = (b[4] & 0xFFL) | (b[5] & 0xFFL) << 8;
        long timeHi = (b[6] & 0xFFL) | (b[7] & 0xFFL) << 8;
        long lsb = 0;
        for (int i = 8; i < 16; i++) {
            lsb = lsb << 8 | (b[i] & 0xFF);
        }
        return new UUID(timeLow << 32 | timeMid << 16 | timeHi, lsb);
    }

    /** FreeBSD's MAXHOSTNAMELEN: bhyve hashes the whole host name buffer. */
    static final int MAXHOSTNAMELEN = 256;

    /**
     * bhyve's default system UUID: MD5 over the VM name and then the host name buffer
     * (MAXHOSTNAMELEN bytes, the name NUL-padded), with the version set to 3 (byte 6) and
     * the RFC 4122 variant (byte 8). bhyve stores the digest bytes as they are; the UUID
     * returned here is the one whose SMBIOS encoding is those bytes, so the guest reads the
     * same UUID it would under bhyve on a host of the same name.
     */
    public static UUID defaultUuid(String hostName, String vmName) {
        byte[] vm = vmName.getBytes(StandardCharsets.UTF_8);
        byte[] message = new byte[vm.length + MAXHOSTNAMELEN]; // the VM's name, then the host's padded
        System.arraycopy(vm, 0, message, 0, vm.length);
        byte[] name = hostName.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(name, 0, message, vm.length, Math.min(name.length, MAXHOSTNAMELEN - 1));
        byte[] d = Md5.digest(message);
        d[6] = (byte) (d[6] & 0x0F | 0x30);
        d[8] = (byte) (d[8] & 0x3F | 0x80);
        return fromSmbiosBytes(d);
    }
}
