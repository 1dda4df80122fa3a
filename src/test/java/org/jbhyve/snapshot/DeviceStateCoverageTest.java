package org.jbhyve.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.virtio.VirtioDevice;
import org.junit.jupiter.api.Test;

/**
 * "A device can be snapshotted" is part of what a device model is: every PCI function, every
 * virtio device model and every named device class on the buses implements {@link Snapshottable}.
 * A new device class without its state fails here.
 */
class DeviceStateCoverageTest {
    /** Device classes that reach the buses through handlers of their own rather than being one. */
    private static final List<String> ALSO_DEVICES = List.of(
            "org.jbhyve.devices.lpc.AcpiPowerManagement",
            "org.jbhyve.devices.lpc.PcTestDev",
            "org.jbhyve.devices.input.I8042");

    @Test
    void everyDeviceModelHasItsSavedState() throws IOException, ClassNotFoundException {
        Path classes = Path.of("target/classes");
        assertTrue(Files.isDirectory(classes.resolve("org/jbhyve/devices")), "compiled classes in " + classes.toAbsolutePath());
        List<String> missing;
        int checked = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            List<Class<?>> devices = files.map(p -> classes.relativize(p).toString())
                    .filter(p -> p.endsWith(".class") && !p.contains("$"))
                    .map(p -> p.substring(0, p.length() - 6).replace('/', '.'))
                    .filter(n -> n.startsWith("org.jbhyve."))
                    .map(DeviceStateCoverageTest::load)
                    .filter(DeviceStateCoverageTest::isDeviceModel)
                    .toList();
            checked = devices.size();
            missing = devices.stream().filter(c -> !Snapshottable.class.isAssignableFrom(c)).map(Class::getName).toList();
        }
        assertTrue(checked >= 20, "found only " + checked + " device classes: the scan is broken");
        assertEquals(List.of(), missing, "device models without a saved state");
    }

    private static boolean isDeviceModel(Class<?> c) {
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers())) {
            return false;
        }
        if (PciFunction.class.isAssignableFrom(c) || VirtioDevice.class.isAssignableFrom(c)) {
            return true;
        }
        if (ALSO_DEVICES.contains(c.getName())) {
            return true;
        }
        return c.getName().startsWith("org.jbhyve.devices.") && IoHandler.class.isAssignableFrom(c);
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, DeviceStateCoverageTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }
}
