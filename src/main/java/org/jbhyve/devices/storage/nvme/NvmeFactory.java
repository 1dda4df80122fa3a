package org.jbhyve.devices.storage.nvme;

import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;

/**
 * Builds an {@code nvme} function from its config node. The -s parser stores bhyve's
 * {@code nvme} conf as {@code ram=MiB} or {@code path=}, then the generic keys; a path takes the
 * block backend's keys as virtio-blk does ({@code ro}, {@code nocache}, {@code direct},
 * {@code sectorsize=l[/p]}, {@code nodelete}), and all take {@link NvmeOptions}' keys.
 */
public final class NvmeFactory {
    private NvmeFactory() {}

    /**
     * The controller for the node read through {@code option} (a key's value) and {@code flag}
     * (a boolean key), at {@code bus:slot:function} of VM {@code vmName}.
     *
     * @throws IllegalArgumentException for an invalid option (one-line message)
     * @throws org.jbhyve.backend.block.BlockBackendException if the image cannot be opened
     */
    public static NvmeController create(Function<String, Optional<String>> option, Predicate<String> flag,
                                        String vmName, int bus, int slot, int function,
                                        GuestMemory memory, PciInterrupts interrupts) {
        NvmeOptions o = NvmeOptions.parse(option, vmName, bus, slot, function);
        NvmeStorage storage;
        if (o.path() == null) {
            storage = new RamStorage(o.ramMiB(), vmName + "-" + slot + "-" + function);
        } else {
            int logical = 0;
            int physical = 0;
            Optional<String> sectorSize = option.apply("sectorsize");
            if (sectorSize.isPresent()) {
                int[] s = BlockOptions.parseSectorSize(sectorSize.get());
                logical = s[0];
                physical = s[1];
            }
            boolean direct = flag.test("direct");
            BlockOptions b = new BlockOptions(o.path(), flag.test("ro"), flag.test("nocache"), direct, logical,
                    physical, flag.test("nodelete"), BlockOptions.DEFAULT_WORKERS).withNoLock(flag.test("nolock"));
            storage = new BlockStorage(BlockBackend.open(b), direct);
        }
        try {
            return new NvmeController(o, storage, memory, interrupts);
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
    }
}
