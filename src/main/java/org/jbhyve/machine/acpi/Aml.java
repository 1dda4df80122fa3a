package org.jbhyve.machine.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A small AML (ACPI Machine Language) encoder, enough for a DSDT: names, integers,
 * strings, buffers, packages, scopes, devices, methods, operation regions and fields, and
 * resource templates. Each method returns an immutable {@link Term}; nesting terms builds
 * the tree, e.g.
 *
 * <pre>{@code
 * Aml.scope("\\_SB", Aml.device("PWRB", Aml.name("_HID", Aml.eisaId("PNP0C0C"))))
 * }</pre>
 *
 * <h2>Encodings (ACPI 6.x, chapter 20)</h2>
 * <ul>
 * <li>NameSeg: 4 characters {@code [A-Z_][A-Z0-9_]*}, padded with '_'. NameString: optional
 *     root '\' (0x5C) or parent '^' (0x5E) prefixes, then NullName (0x00), one NameSeg,
 *     DualNamePrefix (0x2E) + 2 segments, or MultiNamePrefix (0x2F) + count + segments.
 * <li>PkgLength: the length of the package including the PkgLength bytes. Below 64 it is
 *     one byte. Otherwise the lead byte's bits 7-6 give the number (1-3) of following bytes,
 *     its bits 3-0 the low nibble, each following byte the next 8 bits: at most 2^28 - 1.
 * <li>Integers: ZeroOp 0x00, OneOp 0x01, OnesOp 0xFF, BytePrefix 0x0A, WordPrefix 0x0B,
 *     DWordPrefix 0x0C, QWordPrefix 0x0E, each followed by the little-endian value.
 * <li>StringPrefix 0x0D + ASCII + NUL; BufferOp 0x11 PkgLength size bytes; PackageOp 0x12
 *     PkgLength count elements; NameOp 0x08; ScopeOp 0x10; MethodOp 0x14; ReturnOp 0xA4;
 *     StoreOp 0x70; ExtOpPrefix 0x5B + DeviceOp 0x82 / OpRegionOp 0x80 / FieldOp 0x81.
 * </ul>
 * <h2>Resource descriptors (ACPI 6.x, 6.4)</h2>
 * Small items: tag byte {@code type << 3 | length}: IRQ (0x04), I/O port (0x08), End Tag
 * (0x0F, checksum byte). Large items: tag byte {@code 0x80 | type} then a 16-bit length:
 * 32-bit fixed memory (0x06), DWord address space (0x07), Word address space (0x08),
 * QWord address space (0x0A).
 */
public final class Aml {
    private Aml() {}

    /** Encoded AML bytes. */
    public record Term(byte[] bytes) {
        public Term {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        public int length() {
            return bytes.length;
        }
    }

    // ---- opcodes
    static final int ZERO_OP = 0x00, ONE_OP = 0x01, ONES_OP = 0xFF;
    static final int BYTE_PREFIX = 0x0A, WORD_PREFIX = 0x0B, DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D, QWORD_PREFIX = 0x0E;
    static final int NAME_OP = 0x08, SCOPE_OP = 0x10, BUFFER_OP = 0x11, PACKAGE_OP = 0x12;
    static final int METHOD_OP = 0x14, RETURN_OP = 0xA4, STORE_OP = 0x70;
    static final int EXT_OP = 0x5B, DEVICE_OP = 0x82, OP_REGION_OP = 0x80, FIELD_OP = 0x81;
    static final int DUAL_NAME = 0x2E, MULTI_NAME = 0x2F, ROOT = 0x5C, PARENT = 0x5E;
    static final int ARG0 = 0x68, LOCAL0 = 0x60;

    // ---- building blocks

    /** Concatenates terms (a TermList). */
    public static Term seq(Term... terms) {
        return new Term(cat(terms));
    }

    public static Term seq(List<Term> terms) {
        return seq(terms.toArray(Term[]::new));
    }

    static byte[] cat(Term... terms) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Term t : terms) {
            out.writeBytes(t.bytes);
        }
        return out.toByteArray();
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] b(int... v) {
        byte[] r = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (byte) v[i];
        }
        return r;
    }

    /**
     * Encodes {@code value} as a PkgLength field (the value already includes the field's own
     * size). 1 byte below 0x40, then 2 bytes up to 0xFFF, 3 up to 0xFFFFF, 4 up to 0xFFFFFFF.
     */
    public static byte[] pkgLength(int value) {
        if (value < 0 || value > 0x0FFF_FFFF) {
            throw new IllegalArgumentException("PkgLength out of range: " + value);
        }
        if (value < 0x40) {
            return b(value);
        }
        int follow = value <= 0xFFF ? 1 : value <= 0xF_FFFF ? 2 : 3;
        byte[] r = new byte[follow + 1];
        r[0] = (byte) (follow << 6 | (value & 0x0F));
        for (int i = 1; i <= follow; i++) {
            r[i] = (byte) (value >>> (4 + 8 * (i - 1)));
        }
        return r;
    }

    /** Prefixes {@code body} with the PkgLength covering itself and {@code body}. */
    public static byte[] withPkgLength(byte[] body) {
        int n = body.length;
        int total = n + 1 < 0x40 ? n + 1 : n + 2 <= 0xFFF ? n + 2 : n + 3 <= 0xF_FFFF ? n + 3 : n + 4;
        return cat(pkgLength(total), body);
    }

    /** A 4-character NameSeg, padded with '_'. */
    static byte[] nameSeg(String seg) {
        if (seg.isEmpty() || seg.length() > 4) {
            throw new IllegalArgumentException("bad NameSeg '" + seg + "'");
        }
        for (int i = 0; i < seg.length(); i++) {
            char c = seg.charAt(i);
            boolean ok = c == '_' || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
            if (!ok) {
                throw new IllegalArgumentException("bad NameSeg '" + seg + "'");
            }
        }
        return (seg + "___").substring(0, 4).getBytes(StandardCharsets.US_ASCII);
    }

    /** Encodes a NameString such as {@code \_SB.PCI0}, {@code ^^FOO}, {@code _S5} or {@code \}. */
    public static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT);
                i++;
            }
        }
        String rest = path.substring(i);
        String[] segs = rest.isEmpty() ? new String[0] : rest.split("\\.", -1);
        switch (segs.length) {
            case 0 -> out.write(0x00);
            case 1 -> {}
            case 2 -> out.write(DUAL_NAME);
            default -> {
                if (segs.length > 255) {
                    throw new IllegalArgumentException("too many segments");
                }
                out.write(MULTI_NAME);
                out.write(segs.length);
            }
        }
        for (String s : segs) {
            out.writeBytes(nameSeg(s));
        }
        return out.toByteArray();
    }

    // ---- data objects

    /** An integer in its shortest encoding; {@code -1} is OnesOp (all ones). */
    public static Term integer(long v) {
        if (v == 0) {
            return new Term(b(ZERO_OP));
        }
        if (v == 1) {
            return new Term(b(ONE_OP));
        }
        if (v == -1) {
            return new Term(b(ONES_OP));
        }
        if ((v & ~0xFFL) == 0) {
            return new Term(b(BYTE_PREFIX, (int) v));
        }
        if ((v & ~0xFFFFL) == 0) {
            return new Term(b(WORD_PREFIX, (int) v, (int) (v >>> 8)));
        }
        if ((v & ~0xFFFF_FFFFL) == 0) {
            return new Term(b(DWORD_PREFIX, (int) v, (int) (v >>> 8), (int) (v >>> 16), (int) (v >>> 24)));
        }
        byte[] r = new byte[9];
        r[0] = QWORD_PREFIX;
        for (int i = 0; i < 8; i++) {
            r[i + 1] = (byte) (v >>> (8 * i));
        }
        return new Term(r);
    }

    public static Term string(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == 0 || s.charAt(i) > 0x7F) {
                throw new IllegalArgumentException("AML strings are NUL-free ASCII");
            }
        }
        return new Term(cat(b(STRING_PREFIX), s.getBytes(StandardCharsets.US_ASCII), b(0)));
    }

    /** A name reference used as a term (e.g. inside a package or as a Store target). */
    public static Term ref(String path) {
        return new Term(nameString(path));
    }

    public static Term buffer(byte[] data) {
        return new Term(cat(b(BUFFER_OP), withPkgLength(cat(integer(data.length).bytes, data))));
    }

    /** A Package of at most 255 elements. */
    public static Term pkg(Term... elements) {
        if (elements.length > 255) {
            throw new IllegalArgumentException("Package holds at most 255 elements");
        }
        return new Term(cat(b(PACKAGE_OP), withPkgLength(cat(b(elements.length), cat(elements)))));
    }

    public static Term pkg(List<Term> elements) {
        return pkg(elements.toArray(Term[]::new));
    }

    /**
     * The 32-bit compressed EISA id of {@code "PNP0A03"}-style strings: three letters of
     * 5 bits each ('A' = 1) then four hex digits, stored big-endian.
     */
    public static long eisaIdValue(String id) {
        if (id.length() != 7) {
            throw new IllegalArgumentException("EISA id needs 7 characters: " + id);
        }
        int v = 0;
        for (int i = 0; i < 3; i++) {
            char c = id.charAt(i);
            if (c < 'A' || c > 'Z') {
                throw new IllegalArgumentException("bad EISA id " + id);
            }
            v = v << 5 | (c - '@');
        }
        int product = Integer.parseInt(id.substring(3), 16);
        int be = v << 16 | product; // 3 letters in bits 30-16, product in 15-0
        return Integer.reverseBytes(be) & 0xFFFF_FFFFL;
    }

    public static Term eisaId(String id) {
        return integer(eisaIdValue(id));
    }

    // ---- named objects and control

    public static Term name(String name, Term value) {
        return new Term(cat(b(NAME_OP), nameString(name), value.bytes));
    }

    public static Term name(String name, long value) {
        return name(name, integer(value));
    }

    public static Term scope(String name, Term... body) {
        return new Term(cat(b(SCOPE_OP), withPkgLength(cat(nameString(name), cat(body)))));
    }

    public static Term device(String name, Term... body) {
        return new Term(cat(b(EXT_OP, DEVICE_OP), withPkgLength(cat(nameString(name), cat(body)))));
    }

    /** A control method with {@code argCount} (0-7) arguments. */
    public static Term method(String name, int argCount, boolean serialized, Term... body) {
        if (argCount < 0 || argCount > 7) {
            throw new IllegalArgumentException("0..7 arguments");
        }
        int flags = argCount | (serialized ? 0x08 : 0);
        return new Term(cat(b(METHOD_OP), withPkgLength(cat(nameString(name), b(flags), cat(body)))));
    }

    public static Term returnValue(Term value) {
        return new Term(cat(b(RETURN_OP), value.bytes));
    }

    public static Term store(Term source, Term target) {
        return new Term(cat(b(STORE_OP), source.bytes, target.bytes));
    }

    public static Term arg(int n) {
        if (n < 0 || n > 6) {
            throw new IllegalArgumentException("Arg0..Arg6");
        }
        return new Term(b(ARG0 + n));
    }

    public static Term local(int n) {
        if (n < 0 || n > 7) {
            throw new IllegalArgumentException("Local0..Local7");
        }
        return new Term(b(LOCAL0 + n));
    }

    /** Operation region address spaces. */
    public enum RegionSpace {
        SYSTEM_MEMORY(0), SYSTEM_IO(1), PCI_CONFIG(2);
        final int code;

        RegionSpace(int code) {
            this.code = code;
        }
    }

    public static Term operationRegion(String name, RegionSpace space, long offset, long length) {
        return new Term(cat(b(EXT_OP, OP_REGION_OP), nameString(name), b(space.code),
                integer(offset).bytes, integer(length).bytes));
    }

    public enum FieldAccess { ANY, BYTE, WORD, DWORD, QWORD, BUFFER }

    public enum FieldUpdate { PRESERVE, WRITE_AS_ONES, WRITE_AS_ZEROS }

    /** A field unit: a named run of bits, or (name null) a reserved gap. */
    public record FieldUnit(String name, int bits) {
        public static FieldUnit of(String name, int bits) {
            return new FieldUnit(name, bits);
        }

        public static FieldUnit skip(int bits) {
            return new FieldUnit(null, bits);
        }
    }

    public static Term field(String region, FieldAccess access, boolean lock, FieldUpdate update,
            FieldUnit... units) {
        int flags = access.ordinal() | (lock ? 0x10 : 0) | update.ordinal() << 5;
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (FieldUnit u : units) {
            // NamedField := NameSeg PkgLength; ReservedField := 0x00 PkgLength. The PkgLength
            // here holds the bit count itself, not a length including the encoding.
            list.writeBytes(u.name == null ? b(0x00) : nameSeg(u.name));
            list.writeBytes(pkgLength(u.bits));
        }
        return new Term(cat(b(EXT_OP, FIELD_OP),
                withPkgLength(cat(nameString(region), b(flags), list.toByteArray()))));
    }

    // ---- resource templates

    /** {@code IO (Decode16, min, max, alignment, length)}. */
    public static byte[] io(int min, int max, int alignment, int length) {
        return b(0x47, 0x01, min, min >>> 8, max, max >>> 8, alignment, length);
    }

    /** {@code IRQNoFlags () {irqs}}: edge, active high, exclusive ISA IRQs. */
    public static byte[] irqNoFlags(int... irqs) {
        int mask = 0;
        for (int irq : irqs) {
            if (irq < 0 || irq > 15) {
                throw new IllegalArgumentException("ISA IRQ 0..15");
            }
            mask |= 1 << irq;
        }
        return b(0x22, mask, mask >>> 8);
    }

    /** {@code Memory32Fixed (ReadWrite or ReadOnly, base, length)}. */
    public static byte[] memory32Fixed(boolean readWrite, long base, long length) {
        LeBuffer buf = new LeBuffer().u8(0x86).u16(9).u8(readWrite ? 1 : 0).u32(base).u32(length);
        return buf.toByteArray();
    }

    // general flags of address space descriptors: producer, positive decode, MinFixed, MaxFixed
    private static final int PRODUCER_FIXED = 0x0C;

    /** {@code WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, n)}. */
    public static byte[] wordBusNumber(int min, int max) {
        return wordAddress(2, 0x00, min, max);
    }

    /** {@code WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, ...)}. */
    public static byte[] wordIo(int min, int max) {
        return wordAddress(1, 0x03, min, max);
    }

    private static byte[] wordAddress(int type, int typeFlags, int min, int max) {
        return new LeBuffer().u8(0x88).u16(13).u8(type).u8(PRODUCER_FIXED).u8(typeFlags)
                .u16(0).u16(min).u16(max).u16(0).u16(max - min + 1).toByteArray();
    }

    // memory type-specific flags: bit 0 read-write, bits 2-1 cacheability (0 non-cacheable)
    private static final int MEM_RW_NONCACHEABLE = 0x01;

    /** {@code DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...)}. */
    public static byte[] dwordMemory(long min, long max) {
        return new LeBuffer().u8(0x87).u16(23).u8(0).u8(PRODUCER_FIXED).u8(MEM_RW_NONCACHEABLE)
                .u32(0).u32(min).u32(max).u32(0).u32(max - min + 1).toByteArray();
    }

    /** {@code QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...)}. */
    public static byte[] qwordMemory(long min, long max) {
        return new LeBuffer().u8(0x8A).u16(43).u8(0).u8(PRODUCER_FIXED).u8(MEM_RW_NONCACHEABLE)
                .u64(0).u64(min).u64(max).u64(0).u64(max - min + 1).toByteArray();
    }

    /**
     * {@code ResourceTemplate () {...}}: a Buffer of the descriptors and an End Tag whose
     * checksum byte makes the whole descriptor list sum to zero.
     */
    public static Term resourceTemplate(byte[]... descriptors) {
        byte[] body = cat(cat(descriptors), b(0x79, 0));
        body[body.length - 1] = LeBuffer.checksum(body, 0, body.length);
        return buffer(body);
    }

    public static Term resourceTemplate(List<byte[]> descriptors) {
        return resourceTemplate(descriptors.toArray(byte[][]::new));
    }
}
