package org.jbhyve.machine;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.jbhyve.backend.chr.CharBackend;
import org.jbhyve.backend.chr.CharBackends;
import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.bus.IoBus;
import org.jbhyve.devices.input.I8042;
import org.jbhyve.devices.lpc.AcpiPowerManagement;
import org.jbhyve.devices.lpc.LpcComPorts;
import org.jbhyve.devices.lpc.PcTestDev;
import org.jbhyve.devices.lpc.PostPort;
import org.jbhyve.devices.lpc.ResetControl;
import org.jbhyve.devices.lpc.RtcCmos;
import org.jbhyve.devices.lpc.Uart16550;
import org.jbhyve.devices.timer.Hpet;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.pci.PciRoot;

/**
 * The legacy devices on the port bus, as bhyve places them behind its LPC bridge: COM1-COM4
 * (16550s with their tty backends), the RTC/CMOS, the POST port, reset control at 0xCF9 (shared
 * with PCI's CONFIG_ADDRESS), the i8042 reset stub, pc-testdev when asked for, and the HPET
 * at 0xFED00000 (KVM has no in-kernel HPET; bhyve's platform has one, described by -A's HPET
 * table).
 */
final class IsaDevices implements AutoCloseable {
    private final Resources owned = new Resources();

    /** Callbacks from guest-visible devices into the VM lifecycle. */
    interface Requests {
        void reset();

        void debugExit(int status);

        /** The guest entered ACPI sleep state {@code slpTyp} (5 = S5, soft off). */
        void sleep(int slpTyp);
    }

    private final List<Integer> comPorts = new ArrayList<>();
    /** Every device with guest-visible state, by the name its snapshot part carries. */
    private final Map<String, Object> devices = new LinkedHashMap<>();
    private final AcpiPowerManagement pm;

    IsaDevices(MachineSpec spec, MemoryMap map, IoBus ports, IoBus mmio, PciRoot pci,
               IntFunction<IrqLine> isaIrq, Hpet.MsiSender msi, InputRouter input, Requests requests) {
        boolean ok = false;
        try {
            // bhyve's LPC bridge always has COM1 and COM2 (unconnected unless -l gives a backend).
            for (int n = 1; n <= 4; n++) {
                String name = "com" + n;
                String path = spec.comPorts().get(name);
                if (path == null && n > 2) {
                    continue;
                }
                LpcComPorts port = LpcComPorts.byName(name).orElseThrow();
                CharBackend backend = path == null ? null : CharBackends.open(path, name);
                if (backend != null) {
                    owned.own(backend);
                }
                Uart16550 uart = new Uart16550(name, isaIrq.apply(port.irq()), backend);
                owned.own(uart);
                ports.register(port.base(), Uart16550.REGISTER_COUNT, name, uart);
                devices.put(name, uart);
                comPorts.add(n);
            }
            pm = new AcpiPowerManagement(isaIrq.apply(AcpiPowerManagement.SCI_IRQ), requests::sleep, System::nanoTime);
            devices.put("acpi-pm", pm);
            ports.register(AcpiPowerManagement.PM1_EVT_PORT, AcpiPowerManagement.PM1_EVT_LENGTH, "pm1-evt",
                    FirmwareDebug.sharePm1Event(spec, AcpiPowerManagement.PM1_EVT_PORT, pm.eventBlock(), owned));
            ports.register(AcpiPowerManagement.PM1_CNT_PORT, AcpiPowerManagement.PM1_CNT_LENGTH, "pm1-cnt",
                    pm.controlBlock());
            ports.register(AcpiPowerManagement.PM_TMR_PORT, AcpiPowerManagement.PM_TMR_LENGTH, "pm-tmr", pm.timerBlock());
            ports.register(AcpiPowerManagement.SMI_CMD_PORT, 1, "smi-cmd", pm.smiCommand());
            RtcCmos rtc = new RtcCmos(map.lowMemory(), map.highMemory(), spec.rtcUtc(), Clock.systemUTC(),
                    isaIrq.apply(RtcCmos.IRQ));
            ports.register(RtcCmos.PORT_BASE, RtcCmos.PORT_COUNT, "rtc", rtc);
            devices.put("rtc", rtc);
            PostPort post = new PostPort();
            PostPort bhyvePost = new PostPort();
            ports.register(PostPort.POST_CODE_PORT, 1, "post", post);
            ports.register(PostPort.BHYVE_POST_PORT, 1, "post", bhyvePost);
            devices.put("post@0x80", post);
            devices.put("post@bhyve", bhyvePost);
            ResetControl reset = new ResetControl(requests::reset);
            devices.put("reset-control", reset);
            ports.register(PciRoot.CONFIG_ADDRESS_PORT, PciRoot.CONFIG_PORTS_LENGTH, "pci-config",
                    pci.configPorts(reset.resetRegister()));
            I8042 atkbdc = new I8042(isaIrq.apply(I8042.KEYBOARD_IRQ), isaIrq.apply(I8042.MOUSE_IRQ), requests::reset);
            atkbdc.attach(input);
            ports.register(I8042.DATA_PORT, 1, "atkbdc", atkbdc.dataPort());
            ports.register(I8042.COMMAND_PORT, 1, "atkbdc", atkbdc.commandPort());
            devices.put("atkbdc", atkbdc);
            Hpet hpet = owned.own(new Hpet(isaIrq, msi));
            mmio.register(MemoryMap.HPET_BASE, Hpet.REGISTER_BLOCK_LENGTH, "hpet", hpet);
            devices.put("hpet", hpet);
            if (spec.pcTestDev()) {
                PcTestDev testdev = new PcTestDev(requests::debugExit, isaIrq, 24);
                ports.register(PcTestDev.DEBUG_EXIT_PORT, PcTestDev.DEBUG_EXIT_LEN, "pc-testdev", testdev.debugExit());
                ports.register(PcTestDev.IOPORT_BASE, PcTestDev.IOPORT_LEN, "pc-testdev", testdev.ioport());
                ports.register(PcTestDev.IRQ_PORT_BASE, testdev.irqPortCount(), "pc-testdev", testdev.irq());
                mmio.register(PcTestDev.IOMEM_BASE, PcTestDev.IOMEM_LEN, "pc-testdev", testdev.iomem());
                devices.put("pc-testdev", testdev);
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    /** The COM ports present (1-4), for the DSDT. */
    List<Integer> comPorts() {
        return List.copyOf(comPorts);
    }

    /** The devices with guest-visible state, in a fixed order, by snapshot part name. */
    Map<String, Object> devices() {
        return devices;
    }

    AcpiPowerManagement powerManagement() {
        return pm;
    }

    @Override
    public void close() {
        owned.close();
    }
}
