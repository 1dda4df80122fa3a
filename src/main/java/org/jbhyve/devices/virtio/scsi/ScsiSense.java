package org.jbhyve.devices.virtio.scsi;

/**
 * SCSI status codes and sense data (SPC-4 4.5): why a command ended in CHECK CONDITION.
 *
 * <p>A command ends with a one-byte status: GOOD (0x00), CHECK CONDITION (0x02), BUSY (0x08)...
 * With CHECK CONDITION the device also returns sense data. This target always uses the fixed
 * format (response code 0x70, "current error"), 18 bytes:
 *
 * <pre>
 *  0  VALID(7) | response code 0x70      1  obsolete
 *  2  FILEMARK, EOM, ILI | SENSE KEY(3-0)
 *  3-6  INFORMATION (big-endian)         7  ADDITIONAL SENSE LENGTH (10: bytes 8-17)
 *  8-11 COMMAND-SPECIFIC INFORMATION     12 ASC  13 ASCQ  14 FRU code
 * 15  SKSV(7) | C/D(6) | BPV(3) | bit pointer(2-0)   16-17 FIELD POINTER (sense-key specific)
 * </pre>
 * The sense key says the class (5 ILLEGAL REQUEST, 3 MEDIUM ERROR, 7 DATA PROTECT...), the
 * additional sense code and qualifier (ASC/ASCQ) the exact reason. For ILLEGAL REQUEST caused by
 * a bad CDB or parameter byte, SKSV=1 and the field pointer name the offending byte, which Linux
 * prints ("Sense Key-Specific: ... field pointer").
 *
 * @param key          sense key (0-15)
 * @param asc          additional sense code
 * @param ascq         additional sense code qualifier
 * @param fieldPointer byte offset of the bad field, or -1
 * @param inCdb        whether {@code fieldPointer} points into the CDB (else the parameter list)
 */
public record ScsiSense(int key, int asc, int ascq, int fieldPointer, boolean inCdb) {
    /** SAM-5 status codes. */
    public static final int GOOD = 0x00, CHECK_CONDITION = 0x02, BUSY = 0x08;

    /** Sense keys. */
    public static final int NO_SENSE = 0x0, NOT_READY = 0x2, MEDIUM_ERROR = 0x3, HARDWARE_ERROR = 0x4;
    public static final int ILLEGAL_REQUEST = 0x5, UNIT_ATTENTION = 0x6, DATA_PROTECT = 0x7, ABORTED_COMMAND = 0xB;

    /** Length of fixed-format sense data as built by {@link #fixed()}. */
    public static final int FIXED_LENGTH = 18;

    public static final ScsiSense NONE = of(NO_SENSE, 0x00, 0x00);
    public static final ScsiSense INVALID_OPCODE = of(ILLEGAL_REQUEST, 0x20, 0x00);
    public static final ScsiSense LBA_OUT_OF_RANGE = of(ILLEGAL_REQUEST, 0x21, 0x00);
    public static final ScsiSense INVALID_FIELD_IN_CDB = of(ILLEGAL_REQUEST, 0x24, 0x00);
    public static final ScsiSense LUN_NOT_SUPPORTED = of(ILLEGAL_REQUEST, 0x25, 0x00);
    public static final ScsiSense INVALID_FIELD_IN_PARAMETERS = of(ILLEGAL_REQUEST, 0x26, 0x00);
    public static final ScsiSense PARAMETER_LIST_LENGTH = of(ILLEGAL_REQUEST, 0x1A, 0x00);
    public static final ScsiSense SAVING_NOT_SUPPORTED = of(ILLEGAL_REQUEST, 0x39, 0x00);
    public static final ScsiSense WRITE_PROTECTED = of(DATA_PROTECT, 0x27, 0x00);
    public static final ScsiSense UNRECOVERED_READ_ERROR = of(MEDIUM_ERROR, 0x11, 0x00);
    public static final ScsiSense WRITE_ERROR = of(MEDIUM_ERROR, 0x0C, 0x00);
    public static final ScsiSense INTERNAL_TARGET_FAILURE = of(HARDWARE_ERROR, 0x44, 0x00);

    public ScsiSense {
        if (key < 0 || key > 15 || asc < 0 || asc > 255 || ascq < 0 || ascq > 255 || fieldPointer > 0xFFFF) {
            throw new IllegalArgumentException("bad sense " + key + "/" + asc + "/" + ascq);
        }
    }

    public static ScsiSense of(int key, int asc, int ascq) {
        return new ScsiSense(key, asc, ascq, -1, false);
    }

    /** INVALID FIELD IN CDB pointing at CDB byte {@code offset}. */
    public static ScsiSense invalidCdbField(int offset) {
        return new ScsiSense(ILLEGAL_REQUEST, 0x24, 0x00, offset, true);
    }

    /** INVALID FIELD IN PARAMETER LIST pointing at parameter byte {@code offset}. */
    public static ScsiSense invalidParameter(int offset) {
        return new ScsiSense(ILLEGAL_REQUEST, 0x26, 0x00, offset, false);
    }

    /** The 18 bytes of fixed-format sense data (current error, no INFORMATION). */
    public byte[] fixed() {
        byte[] s = new byte[FIXED_LENGTH];
        s[0] = 0x70;
        s[2] = (byte) key;
        s[7] = FIXED_LENGTH - 8;
        s[12] = (byte) asc;
        s[13] = (byte) ascq;
        if (fieldPointer >= 0) {
            s[15] = (byte) (0x80 | (inCdb ? 0x40 : 0));
            s[16] = (byte) (fieldPointer >> 8);
            s[17] = (byte) fieldPointer;
        }
        return s;
    }

    @Override
    public String toString() {
        return String.format("sense %X/%02X/%02X", key, asc, ascq);
    }
}
