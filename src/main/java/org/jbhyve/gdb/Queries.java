package org.jbhyve.gdb;

import java.nio.charset.StandardCharsets;

/**
 * The general query packets ({@code q...}) the server answers (gdb manual, "General Query
 * Packets"): what the server supports, which threads exist and which is current, whether the
 * debugger attached to a running process (yes: gdb then detaches rather than kills on quit),
 * and the target description through {@code qXfer:features:read}. Anything else is answered
 * empty (not supported), as the protocol asks.
 */
final class Queries {
    /** What the server offers in its {@code qSupported} reply. */
    static final String SUPPORTED = "PacketSize=" + Integer.toHexString(PacketReader.MAX_PAYLOAD)
            + ";qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+";

    private Queries() {}

    static String answer(Commands c, String p) {
        if (p.equals("qSupported") || p.startsWith("qSupported:")) {
            return SUPPORTED;
        }
        if (p.equals("qAttached") || p.startsWith("qAttached:")) {
            return "1";
        }
        if (p.equals("qC")) {
            return "QC" + Integer.toHexString(c.current() + 1);
        }
        if (p.equals("qfThreadInfo")) {
            StringBuilder b = new StringBuilder("m");
            for (int v = 0; v < c.vcpuCount(); v++) {
                b.append(v == 0 ? "" : ",").append(Integer.toHexString(v + 1));
            }
            return b.toString();
        }
        if (p.equals("qsThreadInfo")) {
            return "l";
        }
        if (p.startsWith("qThreadExtraInfo,")) {
            int v = c.vcpu(Commands.thread(p.substring("qThreadExtraInfo,".length())));
            return v < 0 ? Commands.INVALID : Hex.encode("vCPU " + v);
        }
        if (p.startsWith("qXfer:features:read:")) {
            return features(p.substring("qXfer:features:read:".length()));
        }
        if (p.equals("qSymbol::")) {
            return "OK";
        }
        return "";
    }

    /**
     * {@code qXfer:features:read:ANNEX:OFFSET,LENGTH}: {@code m} and a piece of the document,
     * or {@code l} and its last piece (possibly empty).
     */
    private static String features(String arg) {
        int colon = arg.indexOf(':');
        if (colon < 0) {
            return Commands.INVALID;
        }
        if (!arg.substring(0, colon).equals(TargetDescription.ANNEX)) {
            return "E00";
        }
        String[] range = arg.substring(colon + 1).split(",", -1);
        if (range.length != 2) {
            return Commands.INVALID;
        }
        long offset = Hex.parseLong(range[0]);
        long length = Math.min(Hex.parseLong(range[1]), PacketReader.MAX_PAYLOAD / 2);
        byte[] xml = TargetDescription.xml();
        if (offset < 0 || offset > xml.length || length < 0) {
            return Commands.INVALID;
        }
        int from = (int) offset;
        int n = (int) Math.min(length, xml.length - from);
        boolean last = from + n >= xml.length;
        byte[] body = PacketWriter.escape(xml, from, n);
        return (last ? "l" : "m") + new String(body, StandardCharsets.ISO_8859_1);
    }
}
