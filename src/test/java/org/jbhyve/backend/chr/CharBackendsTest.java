package org.jbhyve.backend.chr;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class CharBackendsTest {
    private static String error(String value) {
        return assertThrows(CharBackendException.class, () -> CharBackends.open(value, "com1", null)).getMessage();
    }

    @Test
    void unusableValuesFailWithOneLineNamingDeviceAndValue() {
        for (String value : new String[] {"serial0", "/nonexistent/ttyS9", "/dev/null", "tcp=1.2.3.4:70000",
                "tcp=nohost", ""}) {
            String msg = error(value);
            assertTrue(msg.startsWith("com1: "), msg);
            assertTrue(msg.contains(value), msg);
            assertFalse(msg.contains("\n"), msg);
        }
        assertTrue(error("/dev/null").contains("not a terminal"));
        assertTrue(error("/nonexistent/ttyS9").contains("No such file"));
    }

    @Test
    void tcpValueOpensAListener() {
        try (CharBackend b = CharBackends.open("tcp=127.0.0.1:0", "com1", null)) {
            assertTrue(((TcpBackend) b).localAddress().getPort() > 0);
        }
    }
}
