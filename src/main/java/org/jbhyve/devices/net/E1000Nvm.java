package org.jbhyve.devices.net;

import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The 82545EM's 64-word Microwire EEPROM, reached through EECD bit-banging (what Linux's e1000
 * and FreeBSD's em use on this chip) or the EERD read register.
 *
 * <pre>
 * word 0-2   MAC address, little-endian pairs (octet 0 in the low byte of word 0)
 * word 0x0B  subsystem id      word 0x0C subsystem vendor
 * word 0x0D  device id         word 0x0E vendor
 * word 0x3F  checksum: words 0x00-0x3F sum to 0xBABA
 * </pre>
 *
 * Microwire protocol, clocked by rising edges of EECD.SK while EECD.CS is high: 3 opcode bits
 * (110b read, 101b write, 100b write-enable) then 6 address bits shifted in on DI, then 16 data
 * bits shifted out on DO (read) or in on DI (write), most significant first. Dropping CS
 * returns the state machine to the opcode phase.
 */
final class E1000Nvm {
    static final int WORDS = 64;
    static final int CHECKSUM_WORD = 0x3F;
    static final int CHECKSUM_SUM = 0xBABA;
    static final int EECD_SK = 0x01, EECD_CS = 0x02, EECD_DI = 0x04, EECD_DO = 0x08;
    static final int EECD_FWE_EN = 0x20, EECD_REQ = 0x40, EECD_GNT = 0x80, EECD_PRES = 0x100;
    private static final int OPADDR_BITS = 9, DATA_BITS = 16;
    private static final int OP_READ = 0b110, OP_WRITE = 0b101;

    private enum Mode { OPADDR, DATA_IN, DATA_OUT }

    private final int[] words = new int[WORDS];
    private int eecd;
    private Mode mode;
    private int bits;
    private int opaddr;
    private int data;

    E1000Nvm(MacAddress mac, int subsystem, int subsystemVendor, int device, int vendor) {
        for (int i = 0; i < 3; i++) {
            words[i] = mac.octet(2 * i) | mac.octet(2 * i + 1) << 8;
        }
        words[0x0B] = subsystem;
        words[0x0C] = subsystemVendor;
        words[0x0D] = device;
        words[0x0E] = vendor;
        int sum = 0;
        for (int i = 0; i < CHECKSUM_WORD; i++) {
            sum += words[i];
        }
        words[CHECKSUM_WORD] = (CHECKSUM_SUM - sum) & 0xFFFF;
        reset();
    }

    void reset() {
        eecd = EECD_PRES | EECD_FWE_EN;
        toOpcodePhase();
    }

    int word(int index) {
        return index >= 0 && index < WORDS ? words[index] : 0;
    }

    int readEecd() {
        return eecd;
    }

    void writeEecd(int value) {
        boolean rising = (eecd & EECD_SK) == 0 && (value & EECD_SK) != 0;
        boolean deselect = (eecd & EECD_CS) != 0 && (value & EECD_CS) == 0;
        int mask = EECD_SK | EECD_CS | EECD_DI | EECD_REQ;
        eecd = (eecd & ~mask) | (value & mask);
        // The EEPROM is never shared with firmware here: grant requests at once.
        eecd = (value & EECD_REQ) != 0 ? eecd | EECD_GNT : eecd & ~EECD_GNT;
        if (deselect) {
            toOpcodePhase();
        } else if (rising && (eecd & EECD_CS) != 0) {
            clock();
        }
    }

    /** EERD: a write with START returns the word at bits 15:8 in bits 31:16, with DONE. */
    int eerd(int value) {
        if ((value & E1000Registers.EERD_START) == 0) {
            return value & ~E1000Registers.EERD_DONE;
        }
        int address = (value >>> 8) & 0xFF;
        return word(address) << 16 | address << 8 | E1000Registers.EERD_DONE;
    }

    /**
     * Snapshot layout: the 64 words (a guest may have rewritten some through Microwire), EECD,
     * then the shift state: phase (u8: 0 opcode/address, 1 data in, 2 data out), bits left in
     * the phase (u8), the opcode and address shifted in so far, the data word.
     */
    void save(StateWriter out) {
        out.ints(words).i32(eecd).u8(mode.ordinal()).u8(bits).i32(opaddr).i32(data);
    }

    /** Restores what {@link #save} wrote; every field is range-checked. */
    void restore(StateReader in) {
        int[] saved = in.ints(WORDS);
        for (int word : saved) {
            if (word < 0 || word > 0xFFFF) {
                throw in.invalid("an EEPROM word is 0x" + Integer.toHexString(word));
            }
        }
        int savedEecd = in.i32();
        int known = EECD_SK | EECD_CS | EECD_DI | EECD_DO | EECD_FWE_EN | EECD_REQ | EECD_GNT | EECD_PRES;
        if ((savedEecd & ~known) != 0) {
            throw in.invalid("EECD is 0x" + Integer.toHexString(savedEecd));
        }
        int phase = in.u8();
        if (phase >= Mode.values().length) {
            throw in.invalid("the EEPROM phase is " + phase);
        }
        int savedBits = in.u8();
        if (savedBits < 1 || savedBits > DATA_BITS) {
            throw in.invalid("the EEPROM has " + savedBits + " bits left to shift");
        }
        int savedOpaddr = in.intIn(0, (1 << OPADDR_BITS) - 1, "the EEPROM opcode and address");
        int savedData = in.intIn(0, 0xFFFF, "the EEPROM data word");
        System.arraycopy(saved, 0, words, 0, WORDS);
        eecd = savedEecd;
        mode = Mode.values()[phase];
        bits = savedBits;
        opaddr = savedOpaddr;
        data = savedData;
    }

    private void toOpcodePhase() {
        mode = Mode.OPADDR;
        bits = OPADDR_BITS;
        opaddr = 0;
        data = 0;
    }

    private void clock() {
        int in = (eecd & EECD_DI) != 0 ? 1 : 0;
        switch (mode) {
            case OPADDR -> {
                opaddr = opaddr << 1 | in;
                if (--bits == 0) {
                    int op = opaddr >>> 6;
                    int address = opaddr & 0x3F;
                    if (op == OP_READ) {
                        mode = Mode.DATA_OUT;
                        bits = DATA_BITS;
                        data = words[address];
                    } else if (op == OP_WRITE) {
                        mode = Mode.DATA_IN;
                        bits = DATA_BITS;
                        data = 0;
                    } else {
                        toOpcodePhase(); // write enable/disable, erase: accepted, nothing to do
                    }
                }
            }
            case DATA_OUT -> {
                eecd = (data & 0x8000) != 0 ? eecd | EECD_DO : eecd & ~EECD_DO;
                data = (data << 1) & 0xFFFF;
                if (--bits == 0) {
                    toOpcodePhase();
                }
            }
            case DATA_IN -> {
                data = (data << 1 | in) & 0xFFFF;
                if (--bits == 0) {
                    words[opaddr & 0x3F] = data;
                    toOpcodePhase();
                }
            }
        }
    }
}
