package org.jbhyve.cli;

import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.control.VmRecord;

/**
 * How bhyve runs a VM that bhyveload (or bhyvectl --create) created: on FreeBSD the VM already
 * exists in the kernel with its memory and loaded kernel, and bhyve attaches to it. Here the
 * registry's {@link VmRecord} fills in what the command line leaves out:
 *
 * <pre>
 * memory.size           from bhyveload's -m when bhyve has no -m; a different -m is an error
 * memory.wired          true when bhyveload had -S
 * memory.guest_in_core  true when bhyveload had -C
 * boot.kernel, boot.initrd, boot.cmdline   from bhyveload's -e boot.*, unless bhyve boots
 *                       firmware (-l bootrom) or names its own kernel
 * </pre>
 */
final class CreatedVm {
    private CreatedVm() {}

    /** Applies {@code record} (null: nothing) to the tree of {@code bhyve ... NAME}. */
    static void apply(ConfigTree tree, VmRecord record) {
        if (record == null) {
            return;
        }
        if (record.memory() > 0) {
            if (tree.has("memory.size")) {
                String asked = tree.getString("memory.size", "");
                if (pageRounded(ConfigTree.parseMemorySize(asked)) != pageRounded(record.memory())) {
                    throw new ConfigException("-m " + asked + " disagrees with the " + size(record.memory())
                            + " vm " + record.name() + " was created with (by " + record.createdBy()
                            + "; bhyvectl --destroy --vm=" + record.name() + " starts over)");
                }
            } else {
                tree.set("memory.size", size(record.memory()));
            }
        }
        if (record.wired() && !tree.has("memory.wired")) {
            tree.setBoolean("memory.wired", true);
        }
        if (record.inCore() && !tree.has("memory.guest_in_core")) {
            tree.setBoolean("memory.guest_in_core", true);
        }
        if (record.kernel() != null && !tree.has("boot.kernel") && !tree.has("lpc.bootrom")) {
            tree.set("boot.kernel", record.kernel());
            if (record.initrd() != null && !tree.has("boot.initrd")) {
                tree.set("boot.initrd", record.initrd());
            }
            if (record.cmdline() != null && !record.cmdline().isEmpty() && !tree.has("boot.cmdline")) {
                tree.set("boot.cmdline", record.cmdline());
            }
        }
    }

    private static long pageRounded(long bytes) {
        return (bytes + 4095) & ~4095L;
    }

    /** A size in the largest unit that divides it: 256M, 1G, 1536K, 12345B. */
    static String size(long bytes) {
        String[] units = {"T", "G", "M", "K"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes >= unit && bytes % unit == 0) {
                return (bytes >> shifts[i]) + units[i];
            }
        }
        return bytes + "B";
    }
}
