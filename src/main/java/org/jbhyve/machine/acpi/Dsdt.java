package org.jbhyve.machine.acpi;

import static org.jbhyve.machine.acpi.Aml.*;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.machine.acpi.PlatformDescription.IoPorts;
import org.jbhyve.machine.acpi.PlatformDescription.IsaDevice;
import org.jbhyve.machine.acpi.PlatformDescription.PciInterruptRoute;
import org.jbhyve.machine.acpi.PlatformDescription.PciWindow;

/**
 * Differentiated System Description Table, revision 2 (64-bit integers), built with
 * {@link Aml}. The namespace:
 *
 * <pre>
 * \PICM, \_PIC(mode)            interrupt model chosen by the OS (0 PIC, 1 APIC)
 * \_S5 {5, 5, 0, 0}            soft-off: SLP_TYP 5 written to PM1a_CNT powers the VM off
 * \PMIO, PM1S/PM1E/PM1C        PM1a status, enable and control registers (I/O 0x400)
 * \_SB.PWRB                    power button device (PNP0C0C)
 * \_SB.PCI0                    host bridge: _HID PNP0A08 (PCI Express, ECAM in MCFG),
 *                              _CID PNP0A03; _CRS, _PRT
 * \_SB.PCI0.ISA                LPC bridge (its PCI address), holding COMn, RTC, KBD...
 * \_SB.PCI0.HPET               when present
 * \_SB.PCI0.SRES               PNP0C02 motherboard resources: PM ports and ECAM, so the
 *                              OS sees the ECAM range reserved and trusts MCFG
 * </pre>
 *
 * <p>bhyve names the host bridge PNP0A03 only; with an MCFG PNP0A08 is what a PCIe root
 * complex reports, and _CID PNP0A03 keeps every OS that only knows PCI working. Without
 * ECAM the bridge is plain PNP0A03.
 *
 * <p>_PRT gives I/O APIC routes only (the GSI form); there are no PCI interrupt link
 * devices, so an OS running in PIC mode gets no PCI INTx.
 */
public final class Dsdt {
    private Dsdt() {}

    public static final int REVISION = 2;
    /** PM1a event + control + timer blocks: 0x400..0x40B. */
    static final int PM_PORTS_LENGTH = 12;

    public static byte[] build(PlatformDescription p) {
        LeBuffer b = SdtHeader.begin("DSDT", REVISION);
        b.bytes(aml(p).bytes());
        return SdtHeader.finish(b);
    }

    /** The DSDT's AML body (without the table header). */
    public static Term aml(PlatformDescription p) {
        List<Term> root = new ArrayList<>();
        root.add(name("PICM", 0));
        root.add(method("_PIC", 1, false, store(arg(0), ref("PICM"))));
        root.add(name("_S5", pkg(integer(5), integer(5), integer(0), integer(0))));
        root.add(operationRegion("PMIO", RegionSpace.SYSTEM_IO, Fadt.PM1A_EVT_BLK, 8));
        root.add(field("PMIO", FieldAccess.WORD, false, FieldUpdate.PRESERVE,
                FieldUnit.of("PM1S", 16), FieldUnit.of("PM1E", 16), FieldUnit.of("PM1C", 16)));
        root.add(scope("\\_SB",
                device("PWRB", name("_HID", eisaId("PNP0C0C")), name("_UID", 0)),
                pci0(p)));
        return seq(root);
    }

    private static Term pci0(PlatformDescription p) {
        List<Term> body = new ArrayList<>();
        if (p.ecamBase() != 0) {
            body.add(name("_HID", eisaId("PNP0A08")));
            body.add(name("_CID", eisaId("PNP0A03")));
        } else {
            body.add(name("_HID", eisaId("PNP0A03")));
        }
        body.add(name("_ADR", 0));
        body.add(name("_BBN", 0));
        body.add(name("_UID", 0));
        body.add(name("_CRS", resourceTemplate(rootResources(p))));
        List<Term> prt = new ArrayList<>();
        for (PciInterruptRoute r : p.pciRoutes()) {
            if (r.bus() == 0) {
                prt.add(pkg(integer((long) r.slot() << 16 | 0xFFFF), integer(r.pin()),
                        integer(0), integer(r.gsi())));
            }
        }
        if (!prt.isEmpty()) {
            body.add(name("_PRT", pkg(prt)));
        }
        List<Term> isa = new ArrayList<>();
        for (IsaDevice d : p.isaDevices()) {
            isa.add(isaDevice(d));
        }
        if (p.lpc() != null && p.lpc().bus() == 0) {
            isa.addFirst(name("_ADR", p.lpc().acpiAdr()));
            body.add(device("ISA", isa.toArray(Term[]::new)));
        } else {
            body.addAll(isa);
        }
        if (p.hpet()) {
            body.add(device("HPET", name("_HID", eisaId("PNP0103")), name("_UID", 0),
                    name("_CRS", resourceTemplate(
                            memory32Fixed(true, PlatformDescription.HPET_ADDRESS, 0x400)))));
        }
        List<byte[]> sres = new ArrayList<>();
        sres.add(io(Fadt.PM1A_EVT_BLK, Fadt.PM1A_EVT_BLK, 1, PM_PORTS_LENGTH));
        sres.add(io(Fadt.SMI_CMD, Fadt.SMI_CMD, 1, 1));
        if (p.ecamBase() != 0 && p.ecamBase() < 1L << 32) {
            sres.add(memory32Fixed(false, p.ecamBase(), (long) p.ecamBuses() << 20));
        }
        body.add(device("SRES", name("_HID", eisaId("PNP0C02")), name("_UID", 1),
                name("_CRS", resourceTemplate(sres))));
        return device("PCI0", body.toArray(Term[]::new));
    }

    /** Bus numbers, the 0xCF8 config ports, then the I/O and memory windows. */
    static List<byte[]> rootResources(PlatformDescription p) {
        List<byte[]> r = new ArrayList<>();
        int lastBus = p.ecamBase() != 0 ? p.ecamBuses() - 1 : 255;
        r.add(wordBusNumber(0, lastBus));
        r.add(io(0xCF8, 0xCF8, 1, 8));
        for (PciWindow w : p.pciWindows()) {
            if (w.kind() == PciWindow.Kind.IO) {
                r.add(wordIo((int) w.base(), (int) w.last()));
            }
        }
        for (PciWindow w : p.pciWindows()) {
            if (w.kind() == PciWindow.Kind.MEMORY) {
                r.add(w.below4G() ? dwordMemory(w.base(), w.last()) : qwordMemory(w.base(), w.last()));
            }
        }
        return r;
    }

    static Term isaDevice(IsaDevice d) {
        List<Term> body = new ArrayList<>();
        body.add(name("_HID", eisaId(d.hid())));
        if (d.uid() >= 0) {
            body.add(name("_UID", d.uid()));
        }
        List<byte[]> res = new ArrayList<>();
        for (IoPorts io : d.io()) {
            res.add(io(io.base(), io.base(), 1, io.length()));
        }
        if (!d.irqs().isEmpty()) {
            res.add(irqNoFlags(d.irqs().stream().mapToInt(Integer::intValue).toArray()));
        }
        body.add(name("_CRS", resourceTemplate(res)));
        return device(d.name(), body.toArray(Term[]::new));
    }
}
