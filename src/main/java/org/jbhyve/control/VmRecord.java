package org.jbhyve.control;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a created VM is, kept in its registry entry between {@code bhyveload} (or
 * {@code bhyvectl --create}) and {@code bhyvectl --destroy}: FreeBSD keeps such a VM in the
 * kernel with its memory and loaded kernel; Linux keeps this description, and bhyve builds the
 * VM from it.
 *
 * <pre>
 * {"name": "vm1", "created_by": "bhyveload", "memory": 268435456, "wired": false,
 *  "in_core": false, "kernel": "/boot/vmlinuz", "initrd": null, "cmdline": "console=ttyS0",
 *  "host_path": null, "disks": ["/vm/disk.img"], "console": "stdio", "env": {"k": "v"}}
 * </pre>
 * {@code memory} is bytes, 0 when unset (bhyvectl --create); absent strings are null.
 *
 * @param env every {@code -e name=value} given to bhyveload, boot.* keys included
 */
public record VmRecord(String name, String createdBy, long memory, boolean wired, boolean inCore, String kernel,
                       String initrd, String cmdline, String hostPath, List<String> disks, String console,
                       Map<String, String> env) {

    public VmRecord {
        disks = List.copyOf(disks);
        env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    /** An empty VM, as {@code bhyvectl --create} makes it. */
    public static VmRecord empty(String name, String createdBy) {
        return new VmRecord(name, createdBy, 0, false, false, null, null, null, null, List.of(), null, Map.of());
    }

    /** The record as one line of JSON (the layout above). */
    String toJson() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("name", JsonText.string(name));
        o.put("created_by", JsonText.string(createdBy));
        o.put("memory", Long.toString(memory));
        o.put("wired", Boolean.toString(wired));
        o.put("in_core", Boolean.toString(inCore));
        o.put("kernel", JsonText.string(kernel));
        o.put("initrd", JsonText.string(initrd));
        o.put("cmdline", JsonText.string(cmdline));
        o.put("host_path", JsonText.string(hostPath));
        o.put("disks", JsonText.strings(disks));
        o.put("console", JsonText.string(console));
        o.put("env", JsonText.stringObject(new java.util.TreeMap<>(env)));
        return JsonText.object(o);
    }
}
