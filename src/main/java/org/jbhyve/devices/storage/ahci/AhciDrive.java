package org.jbhyve.devices.storage.ahci;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jbhyve.backend.block.BlockBackend;

/**
 * A drive on one AHCI port, as bhyve's {@code hd:} and {@code cd:} port options describe it:
 * its kind, its image and the strings IDENTIFY reports ({@code ser=}, {@code rev=},
 * {@code model=}; nominal media rotation rate {@code nmrr=}, 1 meaning a solid-state drive).
 * The drive owns the backend: closing the controller closes it.
 */
public record AhciDrive(Kind kind, BlockBackend backend, String serial, String revision, String model,
                        int rotationRate) {
    /** {@code hd}: an ATA disk; {@code cd}: an ATAPI CD/DVD-ROM drive. */
    public enum Kind { HD, CD }

    public static final String DEFAULT_REVISION = "001";
    public static final String DISK_MODEL = "BHYVE SATA DISK";
    public static final String CD_MODEL = "BHYVE SATA DVD ROM";

    public AhciDrive {
        if (kind == null || backend == null || serial == null || revision == null || model == null) {
            throw new IllegalArgumentException("AHCI drive needs a kind, a backend and its strings");
        }
        if (rotationRate < 0 || rotationRate > 0xFFFF) {
            throw new IllegalArgumentException("nmrr must be 0-65535, not " + rotationRate);
        }
    }

    /** A disk with bhyve's default strings. */
    public static AhciDrive disk(BlockBackend backend) {
        return new AhciDrive(Kind.HD, backend, defaultSerial(backend.path()), DEFAULT_REVISION, DISK_MODEL, 0);
    }

    /** A CD/DVD drive with bhyve's default strings. */
    public static AhciDrive cd(BlockBackend backend) {
        return new AhciDrive(Kind.CD, backend, defaultSerial(backend.path()), DEFAULT_REVISION, CD_MODEL, 0);
    }

    /**
     * bhyve's serial number for a port: "BHYVE-" and the first six bytes of the MD5 digest of the
     * image path as XXXX-XXXX-XXXX.
     */
    public static String defaultSerial(String path) {
        try {
            byte[] d = MessageDigest.getInstance("MD5").digest(path.getBytes(StandardCharsets.UTF_8));
            return String.format("BHYVE-%02X%02X-%02X%02X-%02X%02X", d[0], d[1], d[2], d[3], d[4], d[5]);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
