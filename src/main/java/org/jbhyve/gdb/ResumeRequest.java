package org.jbhyve.gdb;

import java.util.Map;
import java.util.TreeMap;

/**
 * {@code vCont;ACTION[:THREAD][;ACTION[:THREAD]]...} (gdb manual, "Packets"): {@code c} and
 * {@code C sig} continue, {@code s} and {@code S sig} step one instruction, {@code t} keeps the
 * thread stopped. Each thread takes the leftmost action that names it (or names no thread);
 * threads no action names stay stopped. Signals mean nothing to a VM and are ignored.
 */
final class ResumeRequest {
    private ResumeRequest() {}

    /** vCPU → step (true) or continue (false); null when the packet is malformed. */
    static Map<Integer, Boolean> vCont(String packet, Commands commands) {
        int n = commands.vcpuCount();
        boolean[] decided = new boolean[n];
        Map<Integer, Boolean> run = new TreeMap<>();
        String[] actions = packet.substring("vCont;".length()).split(";", -1);
        try {
            for (String action : actions) {
                int colon = action.indexOf(':');
                String verb = colon < 0 ? action : action.substring(0, colon);
                if (verb.isEmpty()) {
                    return null;
                }
                Boolean step = switch (verb.charAt(0)) {
                    case 'c' -> verb.length() == 1 ? Boolean.FALSE : null;
                    case 's' -> verb.length() == 1 ? Boolean.TRUE : null;
                    case 'C' -> signal(verb) ? Boolean.FALSE : null;
                    case 'S' -> signal(verb) ? Boolean.TRUE : null;
                    case 't' -> verb.length() == 1 ? Boolean.FALSE : null;
                    default -> null;
                };
                if (step == null) {
                    return null;
                }
                boolean keepStopped = verb.charAt(0) == 't';
                int only = -1;
                if (colon >= 0) {
                    long thread = Commands.thread(action.substring(colon + 1));
                    if (thread > 0) {
                        only = commands.vcpu(thread);
                        if (only < 0) {
                            return null;
                        }
                    }
                }
                for (int v = 0; v < n; v++) {
                    if ((only < 0 || only == v) && !decided[v]) {
                        decided[v] = true;
                        if (!keepStopped) {
                            run.put(v, step);
                        }
                    }
                }
            }
        } catch (Hex.BadPacketException e) {
            return null;
        }
        return run.isEmpty() ? null : run;
    }

    private static boolean signal(String verb) {
        if (verb.length() != 3) {
            return false;
        }
        return Hex.digit(verb.charAt(1)) >= 0 && Hex.digit(verb.charAt(2)) >= 0;
    }
}
