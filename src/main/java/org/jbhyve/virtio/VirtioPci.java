package org.jbhyve.virtio;

/**
 * Constants of the virtio PCI transport (virtio 1.x section 4.1) and common feature bits.
 *
 * <pre>
 * Legacy I/O BAR0 (virtio 0.9.5), all little-endian:
 *   0x00 u32 host features (bits 0-31)   0x04 u32 guest features     0x08 u32 queue PFN (4 KiB pages)
 *   0x0C u16 queue size                  0x0E u16 queue select       0x10 u16 queue notify
 *   0x12 u8  device status               0x13 u8  ISR (read clears)
 *   with MSI-X enabled: 0x14 u16 config vector, 0x16 u16 queue vector, device config from 0x18;
 *   otherwise device config from 0x14.
 *   Queue layout: descriptors at PFN*4096, avail ring right after, used ring at the next 4 KiB.
 *
 * Modern BAR4 (64-bit memory), located by vendor capabilities (id 0x09):
 *   0x0000 common config   0x1000 ISR   0x2000 device config   0x3000 notify (queue n at n * 4)
 * </pre>
 */
public final class VirtioPci {
    public static final int VENDOR = 0x1AF4;
    public static final int NO_VECTOR = 0xFFFF;

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_NEEDS_RESET = 0x40;
    public static final int STATUS_FAILED = 0x80;

    public static final int ISR_QUEUE = 1;
    public static final int ISR_CONFIG = 2;

    public static final int F_INDIRECT_DESC = 28;
    public static final int F_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;

    /** Legacy register offsets. */
    static final int L_HOST_FEATURES = 0x00, L_GUEST_FEATURES = 0x04, L_QUEUE_PFN = 0x08, L_QUEUE_SIZE = 0x0C;
    static final int L_QUEUE_SELECT = 0x0E, L_QUEUE_NOTIFY = 0x10, L_STATUS = 0x12, L_ISR = 0x13;
    static final int L_CONFIG_VECTOR = 0x14, L_QUEUE_VECTOR = 0x16;
    static final int L_CONFIG = 0x14, L_CONFIG_MSIX = 0x18;
    static final int LEGACY_PAGE = 4096;

    /** Modern BAR layout. */
    static final int COMMON_OFFSET = 0x0000, COMMON_LENGTH = 0x40;
    static final int ISR_OFFSET = 0x1000, ISR_LENGTH = 1;
    static final int DEVICE_OFFSET = 0x2000, DEVICE_LENGTH = 0x1000;
    static final int NOTIFY_OFFSET = 0x3000, NOTIFY_MULTIPLIER = 4;
    static final int MODERN_BAR_SIZE = 0x4000;
    static final int MODERN_BAR = 4;
    static final int MSIX_BAR = 1;

    /** Vendor capability cfg_type values. */
    static final int CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4, CAP_PCI = 5;

    /** Common config offsets. */
    static final int C_DFSELECT = 0x00, C_DF = 0x04, C_GFSELECT = 0x08, C_GF = 0x0C, C_MSIX_CONFIG = 0x10;
    static final int C_NUM_QUEUES = 0x12, C_STATUS = 0x14, C_CONFIG_GENERATION = 0x15, C_Q_SELECT = 0x16;
    static final int C_Q_SIZE = 0x18, C_Q_MSIX = 0x1A, C_Q_ENABLE = 0x1C, C_Q_NOTIFY_OFF = 0x1E;
    static final int C_Q_DESC = 0x20, C_Q_AVAIL = 0x28, C_Q_USED = 0x30;

    private VirtioPci() {}
}
