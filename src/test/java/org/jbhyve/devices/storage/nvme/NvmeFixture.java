package org.jbhyve.devices.storage.nvme;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jbhyve.virtio.MockGuest;

/** A controller on a temporary image (or RAM) with a mock guest and driver, built through the factory. */
final class NvmeFixture implements AutoCloseable {
    final MockGuest guest;
    final NvmeController controller;
    final MockNvmeDriver driver;
    final Path image;

    private NvmeFixture(MockGuest guest, NvmeController controller, Path image) {
        this.guest = guest;
        this.controller = controller;
        this.driver = new MockNvmeDriver(controller, guest);
        this.image = image;
    }

    /** An image of {@code bytes} whose every 512-byte sector holds its own number, plus {@code options} (k=v...). */
    static NvmeFixture image(Path dir, int bytes, String... options) throws Exception {
        Path p = dir.resolve("nvme.img");
        byte[] content = new byte[bytes];
        for (int i = 0; i < bytes; i += 4) {
            int sector = i / 512;
            content[i] = (byte) sector;
            content[i + 1] = (byte) (sector >>> 8);
            content[i + 2] = (byte) (i % 512 / 4);
            content[i + 3] = (byte) 0xA5;
        }
        Files.write(p, content);
        Map<String, String> o = parse(options);
        o.put("path", p.toString());
        return build(o, p);
    }

    /** A {@code ram=MiB} namespace plus {@code options}. */
    static NvmeFixture ram(int mib, String... options) {
        Map<String, String> o = parse(options);
        o.put("ram", Integer.toString(mib));
        return build(o, null);
    }

    static NvmeFixture build(Map<String, String> options, Path image) {
        return build(options, image, 32 << 20);
    }

    /** A {@code ram=MiB} namespace in a guest of {@code guestBytes} of RAM. */
    static NvmeFixture ram(int mib, long guestBytes, String... options) {
        Map<String, String> o = parse(options);
        o.put("ram", Integer.toString(mib));
        return build(o, null, guestBytes);
    }

    static NvmeFixture build(Map<String, String> options, Path image, long guestBytes) {
        MockGuest guest = new MockGuest(guestBytes);
        return new NvmeFixture(guest, controller(options, guest), image);
    }

    /** A controller for {@code options} (k=v map) built by the factory in {@code guest}. */
    static NvmeController controller(Map<String, String> options, MockGuest guest) {
        return NvmeFactory.create(k -> Optional.ofNullable(options.get(k)),
                k -> options.containsKey(k) && !options.get(k).equals("false"), "testvm", 0, 4, 0, guest.memory, guest);
    }

    /** Another controller in this fixture's guest for the same image and {@code options}, as a restore builds it. */
    NvmeController twin(String... options) {
        Map<String, String> o = parse(options);
        if (image != null) {
            o.put("path", image.toString());
        }
        return controller(o, guest);
    }

    private static Map<String, String> parse(String... options) {
        Map<String, String> o = new HashMap<>();
        for (String s : options) {
            int eq = s.indexOf('=');
            o.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "true" : s.substring(eq + 1));
        }
        return o;
    }

    /** Enables the controller with 64-entry admin queues (memory decoding on). */
    NvmeFixture started() throws InterruptedException {
        driver.enableDevice();
        driver.enable(64, 64);
        return this;
    }

    /** The expected content of byte {@code at} of a fresh image. */
    static byte expected(long at) {
        long word = at & ~3L;
        return switch ((int) (at & 3)) {
            case 0 -> (byte) (word / 512);
            case 1 -> (byte) (word / 512 >>> 8);
            case 2 -> (byte) (word % 512 / 4);
            default -> (byte) 0xA5;
        };
    }

    @Override
    public void close() {
        controller.close();
        guest.close();
    }
}
