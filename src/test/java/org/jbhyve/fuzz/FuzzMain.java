package org.jbhyve.fuzz;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * bench/fuzz's driver: runs every target (or those named on the command line) for
 * {@code fuzz.tries} inputs each (default 100000) and prints one row per target, then
 * {@code crashes=<total>}. Crash details go to stderr.
 */
public final class FuzzMain {
    private FuzzMain() {
    }

    /** The targets, by name, in the table's order. */
    static Map<String, Callable<Fuzz.Target>> targets() {
        Map<String, Callable<Fuzz.Target>> t = new LinkedHashMap<>();
        t.put("command-line", CommandLineFuzzTest.Target::new);
        t.put("config-file", ConfigFileFuzzTest.Target::new);
        t.put("kernel-loader", KernelLoaderFuzzTest.Target::new);
        t.put("virtqueue", VirtqueueDescriptorFuzzTest.Target::new);
        t.put("e1000", E1000DescriptorFuzzTest.Target::new);
        t.put("fw_cfg-dma", FwCfgDmaFuzzTest.Target::new);
        t.put("gdb-packets", GdbPacketFuzzTest.Target::new);
        t.put("rfb-messages", RfbMessageFuzzTest.Target::new);
        t.put("ahci-commands", AhciCommandFuzzTest.Target::new);
        t.put("nvme-commands", NvmeCommandFuzzTest.Target::new);
        t.put("snapshot-file", SnapshotFileFuzzTest.Target::new);
        return t;
    }

    public static void main(String[] args) throws Exception {
        int tries = Integer.getInteger("fuzz.tries", 100_000);
        Map<String, Callable<Fuzz.Target>> all = targets();
        List<String> names = args.length == 0 ? new ArrayList<>(all.keySet()) : List.of(args);
        java.io.PrintStream out = System.out;
        java.io.PrintStream err = System.err;
        if (!Boolean.getBoolean("fuzz.noHeader")) {
            out.printf("%-16s %9s %8s %9s%n", "target", "inputs", "crashes", "seconds");
        }
        int total = 0;
        for (String name : names) {
            Callable<Fuzz.Target> make = all.get(name);
            if (make == null) {
                err.println("unknown target " + name + "; targets: " + String.join(" ", all.keySet()));
                System.exit(2);
            }
            Fuzz.Report r = Fuzz.run(name, tries, make.call());
            total += r.crashes();
            out.printf("%-16s %9d %8d %9.1f%s%n", name, r.inputs(), r.crashes(), r.seconds(),
                    r.seconds() > 120 ? "  (slow)" : "");
            out.flush();
            if (r.crashes() > 0) {
                err.println(r.summary());
            }
        }
        if (!Boolean.getBoolean("fuzz.noHeader")) {
            out.println("crashes=" + total);
        }
        System.exit(total == 0 ? 0 : 1);
    }
}
