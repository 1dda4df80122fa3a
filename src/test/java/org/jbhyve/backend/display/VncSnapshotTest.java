package org.jbhyve.backend.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An outside viewer: Debian's {@code vncsnapshot} (TightVNC-based, RFB 3.3) captures the
 * server's picture to a JPEG. JPEG is lossy, so the two squares' colours are compared within a
 * tolerance. The test fails (does not skip) when vncsnapshot is not installed.
 */
class VncSnapshotTest {
    private static final int RED = 0xE02020, BLUE = 0x2040E0, BACKGROUND = 0x202020;
    private final TestFrame frame = new TestFrame(800, 600);
    private RfbServer server;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private BufferedImage snapshot(String password, String... extra) throws Exception {
        frame.paint(0, 0, 800, 600, BACKGROUND);
        frame.paint(100, 100, 200, 200, RED);
        frame.paint(500, 300, 200, 200, BLUE);
        server = RfbServer.start(new RfbServer.Config("127.0.0.1", 0, password, "snap"), frame, InputSink.NONE);
        Path out = dir.resolve("shot.jpg");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("vncsnapshot", "-quiet"));
        if (password != null) {
            Path pw = dir.resolve("passwd");
            Files.write(pw, obfuscatedPassword(password));
            cmd.addAll(java.util.List.of("-passwd", pw.toString()));
        }
        cmd.addAll(java.util.List.of(extra));
        cmd.add("127.0.0.1::" + server.address().getPort());
        cmd.add(out.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("vncsnapshot is needed (Debian package vncsnapshot): " + e.getMessage());
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "vncsnapshot hung");
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), output);
        BufferedImage image = ImageIO.read(out.toFile());
        assertNotNull(image, "a JPEG: " + output);
        return image;
    }

    /** The vncpasswd file: the password DES-encrypted under VNC's fixed key (bit-mirrored for standard DES). */
    private static byte[] obfuscatedPassword(String password) throws Exception {
        int[] fixed = {23, 82, 107, 6, 35, 78, 88, 7};
        byte[] key = new byte[8];
        for (int i = 0; i < 8; i++) {
            key[i] = (byte) (Integer.reverse(fixed[i]) >>> 24);
        }
        byte[] plain = new byte[8];
        byte[] text = password.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        System.arraycopy(text, 0, plain, 0, Math.min(8, text.length));
        Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
        des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
        return des.doFinal(plain);
    }

    private static void assertNear(int expected, int actual, String where) {
        for (int shift = 0; shift <= 16; shift += 8) {
            int e = (expected >> shift) & 0xFF, a = (actual >> shift) & 0xFF;
            assertTrue(Math.abs(e - a) <= 24, String.format("%s: expected about %06x, got %06x", where, expected,
                    actual & 0xFFFFFF));
        }
    }

    private static void assertPicture(BufferedImage image) {
        assertEquals(800, image.getWidth());
        assertEquals(600, image.getHeight());
        assertNear(RED, image.getRGB(200, 200), "red square");
        assertNear(BLUE, image.getRGB(600, 400), "blue square");
        assertNear(BACKGROUND, image.getRGB(50, 550), "background");
        assertNear(BACKGROUND, image.getRGB(400, 250), "between the squares");
    }

    @Test
    void vncsnapshotCapturesTheTwoSquares() throws Exception {
        assertPicture(snapshot(null));
    }

    @Test
    void vncsnapshotWithRawEncodingAndAPassword() throws Exception {
        assertPicture(snapshot("s3cret", "-encodings", "raw"));
    }
}
