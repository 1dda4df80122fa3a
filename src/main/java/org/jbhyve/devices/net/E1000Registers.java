package org.jbhyve.devices.net;

/**
 * The 8254x register map (Intel's "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual", the names Linux's e1000_hw.h and FreeBSD's e1000_regs.h use), as byte
 * offsets into BAR0. Every register is 32 bits wide and accessed with aligned dword accesses.
 *
 * <pre>
 * 0x0000 CTRL    0x0008 STATUS  0x0010 EECD   0x0014 EERD  0x0018 CTRL_EXT  0x0020 MDIC
 * 0x00C0 ICR     0x00C4 ITR     0x00C8 ICS    0x00D0 IMS   0x00D8 IMC
 * 0x0100 RCTL    0x0400 TCTL    0x0410 TIPG
 * 0x2800 RDBAL   0x2804 RDBAH   0x2808 RDLEN  0x2810 RDH   0x2818 RDT  0x2820 RDTR  0x282C RADV
 * 0x3800 TDBAL   0x3804 TDBAH   0x3808 TDLEN  0x3810 TDH   0x3818 TDT  0x3820 TIDV  0x382C TADV
 * 0x4000-0x40FC statistics (clear on read)
 * 0x5200-0x53FC MTA[128]  0x5400-0x547C RAL/RAH[16]  0x5600-0x57FC VFTA[128]
 * </pre>
 */
final class E1000Registers {
    static final int CTRL = 0x0000, CTRL_DUP = 0x0004, STATUS = 0x0008, EECD = 0x0010, EERD = 0x0014;
    static final int CTRL_EXT = 0x0018, MDIC = 0x0020, FCAL = 0x0028, FCAH = 0x002C, FCT = 0x0030, VET = 0x0038;
    static final int ICR = 0x00C0, ITR = 0x00C4, ICS = 0x00C8, IMS = 0x00D0, IMC = 0x00D8;
    static final int RCTL = 0x0100, TCTL = 0x0400;
    static final int RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818;
    static final int RDTR = 0x2820, RADV = 0x282C;
    static final int TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818;
    static final int TIDV = 0x3820, TADV = 0x382C;
    static final int STATS = 0x4000, STATS_END = 0x4100;
    static final int MTA = 0x5200, RAL0 = 0x5400, RA_END = 0x5480, VFTA = 0x5600;

    // statistics, as offsets into the 0x4000 block
    static final int MPC = 0x4010, PRC64 = 0x405C, GPRC = 0x4074, BPRC = 0x4078, MPRC = 0x407C, GPTC = 0x4080;
    static final int GORCL = 0x4088, GORCH = 0x408C, GOTCL = 0x4090, GOTCH = 0x4094, ROC = 0x40AC;
    static final int TORL = 0x40C0, TORH = 0x40C4, TOTL = 0x40C8, TOTH = 0x40CC, TPR = 0x40D0, TPT = 0x40D4;
    static final int PTC64 = 0x40D8, MPTC = 0x40F0, BPTC = 0x40F4, TSCTC = 0x40F8;

    static final int CTRL_RST = 1 << 26, CTRL_VME = 1 << 30, CTRL_PHY_RST = 1 << 31;
    static final int STATUS_FD = 0x1, STATUS_LU = 0x2, STATUS_SPEED_1000 = 0x80;

    static final int ICR_TXDW = 0x01, ICR_TXQE = 0x02, ICR_LSC = 0x04, ICR_RXDMT0 = 0x10, ICR_RXO = 0x40;
    static final int ICR_RXT0 = 0x80, ICR_MDAC = 0x200;

    static final int RCTL_EN = 1 << 1, RCTL_UPE = 1 << 3, RCTL_MPE = 1 << 4, RCTL_LPE = 1 << 5;
    static final int RCTL_LBM = 3 << 6, RCTL_BAM = 1 << 15, RCTL_BSEX = 1 << 25, RCTL_SECRC = 1 << 26;
    static final int TCTL_EN = 1 << 1;

    static final int RAH_AV = 1 << 31;

    static final int MDIC_OP_WRITE = 1 << 26, MDIC_OP_READ = 2 << 26, MDIC_READY = 1 << 28, MDIC_ERROR = 1 << 30;

    static final int EERD_START = 1, EERD_DONE = 1 << 4;

    // receive descriptor status bits
    static final int RXD_STAT_DD = 0x01, RXD_STAT_EOP = 0x02, RXD_STAT_IXSM = 0x04, RXD_STAT_PIF = 0x80;

    // transmit descriptor command bits (bits 31:24 of the second dword)
    static final int TXD_CMD_EOP = 1 << 24, TXD_CMD_IFCS = 1 << 25, TXD_CMD_IC = 1 << 26, TXD_CMD_TSE = 1 << 26;
    static final int TXD_CMD_RS = 1 << 27, TXD_CMD_DEXT = 1 << 29, TXD_CMD_VLE = 1 << 30;
    static final int TXD_DTYP_MASK = 0xF << 20, TXD_DTYP_D = 1 << 20, TXD_DTYP_C = 0;
    // context descriptor TUCMD bits
    static final int TXD_CMD_TCP = 1 << 24, TXD_CMD_IP = 1 << 25;
    static final int TXD_STAT_DD = 0x01;
    static final int TXD_POPTS_IXSM = 0x01, TXD_POPTS_TXSM = 0x02;

    static final int DESCRIPTOR_SIZE = 16;

    private E1000Registers() {}
}
