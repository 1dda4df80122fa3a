package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.backend.block.ImageLockedException;
import org.jbhyve.control.Claim;
import org.jbhyve.control.Registry;
import org.jbhyve.machine.MachineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second VM on a locked image is told which VM holds it, by the registry's pid of each running VM. */
class LockHoldersTest {
    @TempDir
    Path dir;

    @Test
    void theHoldingVmIsNamedFromTheRegistry() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[4096]);
        BlockOptions rw = BlockOptions.of(image.toString());
        Registry registry = Registry.at(dir.resolve("run"));
        try (Claim web1 = registry.claim("web1"); BlockBackend held = BlockBackend.open(rw)) {
            ImageLockedException locked = assertThrows(ImageLockedException.class, () -> BlockBackend.open(rw));
            MachineException e = new MachineException("pci.0.3.0: " + locked.getMessage(), locked);
            long pid = ProcessHandle.current().pid();
            assertEquals("pci.0.3.0: disk image " + image + ": in use by vm web1 (locked by pid " + pid
                    + "; nolock shares it)", LockHolders.name(e, registry).getMessage());
            assertEquals(4, BhyveMain.fail(LockHolders.name(e, registry)));
        }
    }

    @Test
    void otherFailuresAndUnknownHoldersAreLeftAsTheyAre() {
        Registry registry = Registry.at(dir.resolve("run"));
        MachineException plain = new MachineException("pci.0.3.0: disk image /x: No such file or directory");
        assertSame(plain, LockHolders.name(plain, registry));
        ImageLockedException locked = new ImageLockedException("/x", java.util.List.of(1L));
        MachineException e = new MachineException("pci.0.3.0: " + locked.getMessage(), locked);
        assertSame(e, LockHolders.name(e, registry), "pid 1 runs no VM here");
    }
}
