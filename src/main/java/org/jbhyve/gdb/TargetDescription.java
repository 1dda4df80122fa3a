package org.jbhyve.gdb;

import java.nio.charset.StandardCharsets;

/**
 * The target description gdb reads with {@code qXfer:features:read:target.xml} (gdb manual,
 * "Target Descriptions"): the architecture ({@code i386:x86-64}) and every register of
 * {@link RegisterFile}, in remote-protocol order, grouped into features. gdb recognises
 * {@code org.gnu.gdb.i386.core}, {@code .sse} and {@code .segments} by name and numbers their
 * registers itself; the control registers go in a feature of ours, which gdb shows as plain
 * registers ({@code info registers cr3}). The flags types name the bits of EFLAGS and MXCSR so
 * gdb prints them as {@code [ IF ZF ]}.
 */
final class TargetDescription {
    static final String ANNEX = "target.xml";

    private static final String[][] EFLAGS = {{"CF", "0"}, {"", "1"}, {"PF", "2"}, {"AF", "4"}, {"ZF", "6"},
        {"SF", "7"}, {"TF", "8"}, {"IF", "9"}, {"DF", "10"}, {"OF", "11"}, {"NT", "14"}, {"RF", "16"}, {"VM", "17"},
        {"AC", "18"}, {"VIF", "19"}, {"VIP", "20"}, {"ID", "21"}};
    private static final String[][] MXCSR = {{"IE", "0"}, {"DE", "1"}, {"ZE", "2"}, {"OE", "3"}, {"UE", "4"},
        {"PE", "5"}, {"DAZ", "6"}, {"IM", "7"}, {"DM", "8"}, {"ZM", "9"}, {"OM", "10"}, {"UM", "11"}, {"PM", "12"},
        {"FZ", "15"}};

    private static final byte[] XML = build().getBytes(StandardCharsets.US_ASCII);

    private TargetDescription() {}

    /** The document's bytes. */
    static byte[] xml() {
        return XML.clone();
    }

    private static String build() {
        StringBuilder x = new StringBuilder();
        x.append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        x.append("  <architecture>i386:x86-64</architecture>\n");
        String feature = null;
        for (int n = 0; n < RegisterFile.count(); n++) {
            RegisterFile.Reg r = RegisterFile.REGISTERS.get(n);
            if (!r.feature().equals(feature)) {
                if (feature != null) {
                    x.append("  </feature>\n");
                }
                feature = r.feature();
                x.append("  <feature name=\"").append(feature).append("\">\n");
                types(x, feature);
            }
            x.append("    <reg name=\"").append(r.name()).append("\" bitsize=\"").append(r.bits())
                    .append("\" type=\"").append(r.type()).append("\" regnum=\"").append(n).append("\" group=\"")
                    .append(r.group()).append("\"/>\n");
        }
        x.append("  </feature>\n</target>\n");
        return x.toString();
    }

    /** The types a feature's registers use, defined at the top of that feature. */
    private static void types(StringBuilder x, String feature) {
        if (feature.equals(RegisterFile.CORE)) {
            flags(x, "i386_eflags", EFLAGS);
        } else if (feature.equals(RegisterFile.SSE)) {
            x.append("    <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n");
            x.append("    <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n");
            x.append("    <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n");
            x.append("    <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n");
            x.append("    <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n");
            x.append("    <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n");
            x.append("    <union id=\"vec128\">\n");
            for (String[] f : new String[][] {{"v4_float", "v4f"}, {"v2_double", "v2d"}, {"v16_int8", "v16i8"},
                {"v8_int16", "v8i16"}, {"v4_int32", "v4i32"}, {"v2_int64", "v2i64"}, {"uint128", "uint128"}}) {
                x.append("      <field name=\"").append(f[0]).append("\" type=\"").append(f[1]).append("\"/>\n");
            }
            x.append("    </union>\n");
            flags(x, "i386_mxcsr", MXCSR);
        }
    }

    private static void flags(StringBuilder x, String id, String[][] bits) {
        x.append("    <flags id=\"").append(id).append("\" size=\"4\">\n");
        for (String[] b : bits) {
            x.append("      <field name=\"").append(b[0]).append("\" start=\"").append(b[1]).append("\" end=\"")
                    .append(b[1]).append("\"/>\n");
        }
        x.append("    </flags>\n");
    }
}
