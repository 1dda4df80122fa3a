package org.jbhyve.devices.storage.ahci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.virtio.MockGuest;

/** Images in a temporary directory, a mock guest, a controller over them and a driver for it. */
final class AhciFixture implements AutoCloseable {
    final Path dir;
    final MockGuest guest;
    AhciController hba;
    AhciDriver driver;

    AhciFixture(Path dir, long ram) {
        this.dir = dir;
        this.guest = new MockGuest(ram);
    }

    /** A disk image whose byte i of sector s is (s * 7 + i) & 0xFF: every sector different. */
    Path disk(String name, long bytes) throws IOException {
        Path p = dir.resolve(name);
        byte[] content = new byte[(int) bytes];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i / 512 * 7 + i % 512);
        }
        Files.write(p, content);
        return p;
    }

    /** An ISO-like image: 2048-byte sectors, each filled with its number, "CD001" at sector 16. */
    Path iso(String name, int sectors) throws IOException {
        Path p = dir.resolve(name);
        byte[] content = new byte[sectors * 2048];
        for (int s = 0; s < sectors; s++) {
            for (int i = 0; i < 2048; i += 4) {
                content[s * 2048 + i] = (byte) s;
                content[s * 2048 + i + 1] = (byte) (s >>> 8);
                content[s * 2048 + i + 2] = (byte) i;
                content[s * 2048 + i + 3] = (byte) (i >>> 8);
            }
        }
        if (sectors > 16) {
            System.arraycopy(new byte[] {1, 'C', 'D', '0', '0', '1', 1}, 0, content, 16 * 2048, 7);
        }
        Files.write(p, content);
        return p;
    }

    static BlockOptions options(Path p, boolean ro, boolean noDelete) {
        return new BlockOptions(p.toString(), ro, false, false, 0, 0, noDelete, 4);
    }

    static AhciDrive hd(Path p) {
        return AhciDrive.disk(BlockBackend.open(options(p, false, false)));
    }

    static AhciDrive cd(Path p) {
        return AhciDrive.cd(BlockBackend.open(options(p, true, false)));
    }

    AhciFixture start(Map<Integer, AhciDrive> drives) {
        hba = new AhciController(drives, guest.memory, guest);
        driver = new AhciDriver(hba, guest);
        return this;
    }

    boolean line() {
        return guest.intxLevel;
    }

    @Override
    public void close() {
        if (hba != null) {
            hba.close();
        }
        guest.close();
    }
}
