package org.jbhyve.devices.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.devices.input.I8042;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.testing.RfbTestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * fbuf, its RFB server and the i8042 wired as the machine wires them, with this test playing
 * the guest through the BARs and ports (what FbufIT's guest does under KVM).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FbufConsoleTest {
    @Test
    void aViewerSeesThePaintedSquaresAndItsKeysReachTheI8042() throws Exception {
        InputRouter console = new InputRouter();
        I8042 kbc = new I8042(IrqLine.NONE, IrqLine.NONE, () -> { });
        kbc.attach(console);
        try (Arena arena = Arena.ofShared();
             Fbuf fbuf = new Fbuf(FbufOptionsTest.parse("tcp=127.0.0.1:0,w=800,h=600,wait"),
                     arena.allocate(Fbuf.FB_SIZE, 4096), FramebufferMapper.NONE)) {
            fbuf.startServer(console, "guest");
            InetSocketAddress address = fbuf.server().address();
            Thread guest = Thread.ofPlatform().start(() -> {
                try {
                    fbuf.awaitFirstClient();
                } catch (InterruptedException e) {
                    return;
                }
                IoHandler regs = fbuf.bars().get(0).handler(), fb = fbuf.bars().get(1).handler();
                int width = (int) regs.read(Fbuf.WIDTH, 2);
                for (int y = 100; y < 300; y++) {
                    for (int x = 100; x < 300; x++) {
                        fb.write((y * width + x) * 4L, 4, 0xFF0000);
                        fb.write(((y + 200) * width + x + 400) * 4L, 4, 0x0000FF);
                    }
                }
            });
            try (RfbTestClient viewer = RfbTestClient.connect(address)) {
                guest.join(10_000);
                assertEquals(800, viewer.width);
                assertEquals(600, viewer.height);
                viewer.requestFullUpdate();
                viewer.readUpdate();
                assertEquals(0xFF0000, viewer.pixel(150, 150));
                assertEquals(0x0000FF, viewer.pixel(550, 350));
                assertEquals(0, viewer.pixel(400, 250));
                viewer.keyEvent(true, 'a');
                viewer.keyEvent(false, 'a');
                List<Integer> bytes = new ArrayList<>();
                long end = System.currentTimeMillis() + 5000;
                while (bytes.size() < 2 && System.currentTimeMillis() < end) {
                    if ((kbc.commandPort().read(0, 1) & 1) != 0) {
                        bytes.add((int) kbc.dataPort().read(0, 1));
                    } else {
                        Thread.sleep(5);
                    }
                }
                assertEquals(List.of(0x1E, 0x9E), bytes, "make and break of A, translated to set 1");
            }
            assertTrue(!guest.isAlive());
        }
    }
}
