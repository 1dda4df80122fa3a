package org.jbhyve.machine.acpi;

/**
 * Fixed ACPI Description Table, revision 6 (276 bytes), with bhyve's power-management
 * ports. Field offsets:
 *
 * <pre>
 *  36 FIRMWARE_CTRL   40 DSDT   45 Preferred PM profile   46 SCI_INT (2)   48 SMI_CMD
 *  52 ACPI_ENABLE     53 ACPI_DISABLE   54 S4BIOS_REQ   55 PSTATE_CNT
 *  56 PM1a_EVT_BLK    60 PM1b_EVT_BLK   64 PM1a_CNT_BLK  68 PM1b_CNT_BLK  72 PM2_CNT_BLK
 *  76 PM_TMR_BLK      80 GPE0_BLK       84 GPE1_BLK
 *  88 PM1_EVT_LEN  89 PM1_CNT_LEN  90 PM2_CNT_LEN  91 PM_TMR_LEN  92 GPE0_BLK_LEN
 *  93 GPE1_BLK_LEN 94 GPE1_BASE    95 CST_CNT  96 P_LVL2_LAT  98 P_LVL3_LAT
 * 100 FLUSH_SIZE  102 FLUSH_STRIDE 104 DUTY_OFFSET 105 DUTY_WIDTH 106 DAY_ALRM 107 MON_ALRM
 * 108 CENTURY     109 IAPC_BOOT_ARCH (2)  112 Flags (4)  116 RESET_REG (GAS)
 * 128 RESET_VALUE 129 ARM_BOOT_ARCH (2)   131 FADT minor version
 * 132 X_FIRMWARE_CTRL (8)  140 X_DSDT (8)  148 X_PM1a_EVT_BLK  160 X_PM1b_EVT_BLK
 * 172 X_PM1a_CNT_BLK  184 X_PM1b_CNT_BLK  196 X_PM2_CNT_BLK  208 X_PM_TMR_BLK
 * 220 X_GPE0_BLK  232 X_GPE1_BLK  244 SLEEP_CONTROL_REG  256 SLEEP_STATUS_REG
 * 268 Hypervisor vendor identity (8)
 * </pre>
 *
 * <p>The power button is the fixed-hardware one (PWR_BUTTON flag clear): pressing it sets
 * PWRBTN_STS in PM1a_STS and raises the SCI. There is no sleep button (SLP_BUTTON set).
 */
public final class Fadt {
    private Fadt() {}

    public static final int SIZE = 276;
    public static final int REVISION = 6;

    // bhyve's PM registers (pm.c / acpi.h)
    public static final int SCI_INT = 9;
    public static final int SMI_CMD = 0xB2;
    public static final int ACPI_ENABLE = 0xA0;
    public static final int ACPI_DISABLE = 0xA1;
    public static final int PM1A_EVT_BLK = 0x400;
    public static final int PM1A_CNT_BLK = 0x404;
    public static final int PM_TMR_BLK = 0x408;
    public static final int RESET_PORT = 0xCF9;
    public static final int RESET_VALUE = 0x06;
    /** CMOS index of the century byte, as bhyve's RTC. */
    public static final int CENTURY_INDEX = 0x32;

    // Flags (offset 112)
    public static final int WBINVD = 1 << 0;
    public static final int PROC_C1 = 1 << 2;
    public static final int PWR_BUTTON = 1 << 4;
    public static final int SLP_BUTTON = 1 << 5;
    public static final int TMR_VAL_EXT = 1 << 8;
    public static final int RESET_REG_SUP = 1 << 10;
    public static final int HEADLESS = 1 << 12;
    public static final int FORCE_APIC_PHYSICAL_DESTINATION_MODE = 1 << 19;
    /** bhyve's flags: no power-button device flag, so the fixed power button is used. */
    public static final int BHYVE_FLAGS = WBINVD | PROC_C1 | SLP_BUTTON | TMR_VAL_EXT
            | RESET_REG_SUP | HEADLESS | FORCE_APIC_PHYSICAL_DESTINATION_MODE;

    // IA-PC boot architecture flags (offset 109)
    public static final int BOOT_LEGACY_DEVICES = 1 << 0;
    public static final int BOOT_8042 = 1 << 1;
    public static final int BOOT_VGA_NOT_PRESENT = 1 << 2;
    public static final int BOOT_PCIE_ASPM_CONTROLS = 1 << 4;

    public static final int OFF_FACS = 36, OFF_DSDT = 40, OFF_SCI_INT = 46, OFF_SMI_CMD = 48;
    public static final int OFF_PM1A_EVT = 56, OFF_PM1A_CNT = 64, OFF_PM_TMR = 76;
    public static final int OFF_PM1_EVT_LEN = 88, OFF_PM_TMR_LEN = 91, OFF_CENTURY = 108;
    public static final int OFF_BOOT_ARCH = 109, OFF_FLAGS = 112, OFF_RESET_REG = 116;
    public static final int OFF_RESET_VALUE = 128, OFF_X_FACS = 132, OFF_X_DSDT = 140;
    public static final int OFF_X_PM1A_EVT = 148, OFF_X_PM1A_CNT = 172, OFF_X_PM_TMR = 208;

    /**
     * @param facs FACS address (below 4 GiB)
     * @param dsdt DSDT address (below 4 GiB)
     * @param i8042 whether an i8042 is present (boot architecture flag)
     */
    public static byte[] build(long facs, long dsdt, boolean i8042) {
        LeBuffer b = SdtHeader.begin("FACP", REVISION);
        b.u32(facs).u32(dsdt).u8(0).u8(0 /* unspecified profile */).u16(SCI_INT).u32(SMI_CMD)
                .u8(ACPI_ENABLE).u8(ACPI_DISABLE).u8(0).u8(0);
        b.u32(PM1A_EVT_BLK).u32(0).u32(PM1A_CNT_BLK).u32(0).u32(0).u32(PM_TMR_BLK).u32(0).u32(0);
        b.u8(4).u8(2).u8(0).u8(4).u8(0).u8(0).u8(0).u8(0); // block lengths, GPE1 base, CST_CNT
        b.u16(0).u16(0).u16(0).u16(0); // C2/C3 latency, flush size/stride
        b.u8(0).u8(0).u8(0).u8(0).u8(CENTURY_INDEX);
        int boot = BOOT_VGA_NOT_PRESENT | BOOT_PCIE_ASPM_CONTROLS | (i8042 ? BOOT_8042 : 0);
        b.u16(boot).u8(0).u32(BHYVE_FLAGS);
        SdtHeader.gas(b, SdtHeader.GAS_SYSTEM_IO, 8, 0, 1, RESET_PORT);
        b.u8(RESET_VALUE).u16(0).u8(0 /* minor version */);
        b.u64(facs).u64(dsdt);
        SdtHeader.gas(b, SdtHeader.GAS_SYSTEM_IO, 32, 0, 2, PM1A_EVT_BLK);
        SdtHeader.gas(b, 0, 0, 0, 0, 0);
        SdtHeader.gas(b, SdtHeader.GAS_SYSTEM_IO, 16, 0, 2, PM1A_CNT_BLK);
        SdtHeader.gas(b, 0, 0, 0, 0, 0);
        SdtHeader.gas(b, 0, 0, 0, 0, 0); // PM2
        SdtHeader.gas(b, SdtHeader.GAS_SYSTEM_IO, 32, 0, 3, PM_TMR_BLK);
        SdtHeader.gas(b, 0, 0, 0, 0, 0); // GPE0
        SdtHeader.gas(b, 0, 0, 0, 0, 0); // GPE1
        SdtHeader.gas(b, 0, 0, 0, 0, 0); // sleep control (hardware-reduced only)
        SdtHeader.gas(b, 0, 0, 0, 0, 0); // sleep status
        b.ascii("", 8, '\0'); // hypervisor vendor identity: none
        if (b.size() != SIZE) {
            throw new IllegalStateException("FADT size " + b.size());
        }
        return SdtHeader.finish(b);
    }
}
