package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The command lines of the bhyve(8) manual and the FreeBSD Handbook, each with
 * the settings tree it must produce ({@code -o config.dump=1} output).
 */
class GoldenDumpTest {

    static Stream<Arguments> examples() {
        return Stream.of(
                Arguments.of("handbook: Linux guest from an ISO", """
                        -A -H -P -s 0:0,hostbridge -s 1:0,lpc -s 2:0,virtio-net,tap0
                        -s 3:0,virtio-blk,./linux.img -s 4:0,ahci-cd,./somefile.iso
                        -l com1,stdio -c 4 -m 1024M linuxguest""", """
                        acpi_tables=true
                        x86.vmexit_on_hlt=true
                        x86.vmexit_on_pause=true
                        pci.0.0.0.device=hostbridge
                        pci.0.1.0.device=lpc
                        pci.0.2.0.device=virtio-net
                        pci.0.2.0.backend=tap0
                        pci.0.3.0.device=virtio-blk
                        pci.0.3.0.path=./linux.img
                        pci.0.4.0.device=ahci
                        pci.0.4.0.port.0.type=cd
                        pci.0.4.0.port.0.path=./somefile.iso
                        lpc.com1.path=stdio
                        cpus=4
                        memory.size=1024M
                        name=linuxguest"""),
                Arguments.of("handbook: zvol disk, attached -s value", """
                        -A -H -P -s 0:0,hostbridge -s 1:0,lpc -s 2:0,virtio-net,tap0
                        -s3:0,virtio-blk,/dev/zvol/zroot/linuxdisk0 -l com1,stdio -c 4 -m 1024M linuxguest""", """
                        acpi_tables=true
                        x86.vmexit_on_hlt=true
                        x86.vmexit_on_pause=true
                        pci.0.0.0.device=hostbridge
                        pci.0.1.0.device=lpc
                        pci.0.2.0.device=virtio-net
                        pci.0.2.0.backend=tap0
                        pci.0.3.0.device=virtio-blk
                        pci.0.3.0.path=/dev/zvol/zroot/linuxdisk0
                        lpc.com1.path=stdio
                        cpus=4
                        memory.size=1024M
                        name=linuxguest"""),
                Arguments.of("man page: 1 GB, 2 vCPUs, virtio-blk, serial console", """
                        -c 2 -m 1G -s 0,hostbridge -s 1,lpc -s 2,virtio-blk,disk.img -l com1,stdio -A -H -P vm1""",
                        """
                        cpus=2
                        memory.size=1G
                        pci.0.0.0.device=hostbridge
                        pci.0.1.0.device=lpc
                        pci.0.2.0.device=virtio-blk
                        pci.0.2.0.path=disk.img
                        lpc.com1.path=stdio
                        acpi_tables=true
                        x86.vmexit_on_hlt=true
                        x86.vmexit_on_pause=true
                        name=vm1"""),
                Arguments.of("man page: 24 GB, three network ports, one with a MAC", """
                        -s 0,hostbridge -s 1,lpc -s 2:0,virtio-net,tap0 -s 2:1,virtio-net,tap1
                        -s 2:2,virtio-net,tap2,mac=00:be:fa:76:45:00 -s 3,virtio-blk,/my/image -l com1,stdio
                        -A -H -P -m 24G bigvm""", """
                        pci.0.0.0.device=hostbridge
                        pci.0.1.0.device=lpc
                        pci.0.2.0.device=virtio-net
                        pci.0.2.0.backend=tap0
                        pci.0.2.1.device=virtio-net
                        pci.0.2.1.backend=tap1
                        pci.0.2.2.device=virtio-net
                        pci.0.2.2.backend=tap2
                        pci.0.2.2.mac=00:be:fa:76:45:00
                        pci.0.3.0.device=virtio-blk
                        pci.0.3.0.path=/my/image
                        lpc.com1.path=stdio
                        acpi_tables=true
                        x86.vmexit_on_hlt=true
                        x86.vmexit_on_pause=true
                        memory.size=24G
                        name=bigvm"""),
                Arguments.of("man page: UEFI guest with a VNC framebuffer", """
                        -c 2 -m 4G -w -H -s 0,hostbridge -s 3,ahci-cd,/path/to/uefi-OS-install.iso
                        -s 4,ahci-hd,disk.img -s 5,virtio-net,tap0 -s 29,fbuf,tcp=0.0.0.0:5900,w=800,h=600,wait
                        -s 30,xhci,tablet -s 31,lpc -l com1,stdio
                        -l bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd uefivm""", """
                        cpus=2
                        memory.size=4G
                        x86.strictmsr=false
                        x86.vmexit_on_hlt=true
                        pci.0.0.0.device=hostbridge
                        pci.0.3.0.device=ahci
                        pci.0.3.0.port.0.type=cd
                        pci.0.3.0.port.0.path=/path/to/uefi-OS-install.iso
                        pci.0.4.0.device=ahci
                        pci.0.4.0.port.0.type=hd
                        pci.0.4.0.port.0.path=disk.img
                        pci.0.5.0.device=virtio-net
                        pci.0.5.0.backend=tap0
                        pci.0.29.0.device=fbuf
                        pci.0.29.0.tcp=0.0.0.0:5900
                        pci.0.29.0.w=800
                        pci.0.29.0.h=600
                        pci.0.29.0.wait=true
                        pci.0.30.0.device=xhci
                        pci.0.30.0.slot.1.device=tablet
                        pci.0.31.0.device=lpc
                        lpc.com1.path=stdio
                        lpc.bootrom=/usr/local/share/uefi-firmware/BHYVE_UEFI.fd
                        name=uefivm"""),
                Arguments.of("man page: VNC on every IPv6 address", """
                        -c 2 -m 4G -w -H -s 0,hostbridge -s 4,ahci-hd,disk.img -s 5,virtio-net,tap0
                        -s 29,fbuf,tcp=[::]:5900,w=800,h=600 -s 30,xhci,tablet -s 31,lpc -l com1,stdio
                        -l bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd uefivm""", """
                        cpus=2
                        memory.size=4G
                        x86.strictmsr=false
                        x86.vmexit_on_hlt=true
                        pci.0.0.0.device=hostbridge
                        pci.0.4.0.device=ahci
                        pci.0.4.0.port.0.type=hd
                        pci.0.4.0.port.0.path=disk.img
                        pci.0.5.0.device=virtio-net
                        pci.0.5.0.backend=tap0
                        pci.0.29.0.device=fbuf
                        pci.0.29.0.tcp=[::]:5900
                        pci.0.29.0.w=800
                        pci.0.29.0.h=600
                        pci.0.30.0.device=xhci
                        pci.0.30.0.slot.1.device=tablet
                        pci.0.31.0.device=lpc
                        lpc.com1.path=stdio
                        lpc.bootrom=/usr/local/share/uefi-firmware/BHYVE_UEFI.fd
                        name=uefivm"""),
                Arguments.of("handbook: UEFI with a variables file and clustered flags", """
                        -AHP -s 0:0,hostbridge -s 1:0,lpc -s 2:0,virtio-net,tap1 -s 3:0,virtio-blk,./disk.img
                        -s 4:0,ahci-cd,./install.iso -c 4 -m 1024M
                        -l bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd,/path/to/vm-image/BHYVE_UEFI_VARS.fd
                        guest""", """
                        acpi_tables=true
                        x86.vmexit_on_hlt=true
                        x86.vmexit_on_pause=true
                        pci.0.0.0.device=hostbridge
                        pci.0.1.0.device=lpc
                        pci.0.2.0.device=virtio-net
                        pci.0.2.0.backend=tap1
                        pci.0.3.0.device=virtio-blk
                        pci.0.3.0.path=./disk.img
                        pci.0.4.0.device=ahci
                        pci.0.4.0.port.0.type=cd
                        pci.0.4.0.port.0.path=./install.iso
                        cpus=4
                        memory.size=1024M
                        lpc.bootrom=/usr/local/share/uefi-firmware/BHYVE_UEFI.fd
                        lpc.bootvars=/path/to/vm-image/BHYVE_UEFI_VARS.fd
                        name=guest"""),
                Arguments.of("man page: eight SATA disks and a CD on one AHCI controller (slot moved to 2)", """
                        -c 4 -s 0,amd_hostbridge -s 1,lpc
                        -s 2:0,ahci,hd:/images/disk.1,hd:/images/disk.2,cd:/images/install.iso
                        -s 3,virtio-net,tap0 -l com1,/dev/nmdm0A -A -H -P -m 8G vm8""", """
                        cpus=4
                        pci.0.0.0.device=hostbridge
                        pci.0.0.0.vendor=0x1022
                        pci.0.0.0.devid=0x7432
                        pci.0.1.0.device=lpc
                        pci.0.2.0.device=ahci
                        pci.0.2.0.port.0.type=hd
                        pci.0.2.0.port.0.path=/images/disk.1
                        pci.0.2.0.port.1.type=hd
                        pci.0.2.0.port.1.path=/images/disk.2
                        pci.0.2.0.port.2.type=cd
                        pci.0.2.0.port.2.path=/images/install.iso
                        pci.0.3.0.device=virtio-net
                        pci.0.3.0.backend=tap0
                        lpc.com1.path=/dev/nmdm0A
                        acpi_tables=true
                        x86.vmexit_on_hlt=true
                        x86.vmexit_on_pause=true
                        memory.size=8G
                        name=vm8"""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void dump(String title, String commandLine, String expected) {
        ParsedCommand result = BhyveCommandLine.parse(commandLine.strip().split("\\s+"));
        ParsedCommand.Run run = assertInstanceOf(ParsedCommand.Run.class, result);
        assertEquals(expected, String.join("\n", run.tree().dump()));
    }
}
