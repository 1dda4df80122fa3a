package org.jbhyve.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.cli.BhyveCommandLine;
import org.jbhyve.cli.ParsedCommand;
import org.jbhyve.config.ConfigException;
import org.jbhyve.machine.MachineSpec;
import org.junit.jupiter.api.Test;

/**
 * bhyve's command line: the input is the argument vector, arguments separated by NUL bytes (as
 * the kernel hands them over), decoded as UTF-8. Seeds are valid command lines (topologies,
 * -s slots with their options, -l devices, -G, -p, -o, -U); mutations break numbers, commas,
 * option letters and clusters. Each vector is parsed as {@code bhyve} does and, when it asks
 * for a run, turned into the machine's specification.
 *
 * <p>A crash is any exception other than {@link ConfigException} (bhyve's one-line "errx"
 * error), or a ConfigException whose message is not one line.
 */
class CommandLineFuzzTest {
    static final List<String> SEED_LINES = List.of(
            "-c|2|-m|512M|-s|0,hostbridge|-s|31,lpc|-l|com1,stdio|vm1",
            "-A|-H|-P|-c|sockets=1,cores=2,threads=2|-m|1G|-s|0:0,hostbridge|-s|1:0,virtio-net,tap0,mac=00:a0:98:11:22:33|vm2",
            "-s|3,virtio-blk,/nonexistent/disk.img,ro,sectorsize=512/4096|-s|4,ahci,hd:/nonexistent/a.img,cd:/nonexistent/b.iso|vm",
            "-s|5,nvme,ram=64,maxq=4,qsz=256,ioslots=8,sectsz=4096,ser=ABC|-s|6,e1000,tap1|-s|7,xhci,tablet|name",
            "-s|8,fbuf,tcp=127.0.0.1:5900,w=1024,h=768,wait|-s|9,virtio-scsi,/nonexistent/ctl,iid=3|-s|10,virtio-rnd|vm",
            "-l|bootrom,/nonexistent/BHYVE_UEFI.fd,/nonexistent/vars.fd|-l|com2,/dev/nmdmX1A|-l|fwcfg,qemu|vm",
            "-G|w127.0.0.1:1234|-p|0:1|-p|1:3|-c|2|-U|12345678-1234-1234-1234-123456789abc|-o|x86.strictmsr=false|vm",
            "-o|boot.kernel=/nonexistent/vmlinuz|-o|boot.cmdline=console=ttyS0 root=/dev/vda|-o|memory.size=2G|vm",
            "-k|/nonexistent/vm.conf|-D|-e|-u|-w|-x|-Y|-S|-C|vm", "-AHP|-c4,cores=2|-m256M|vm",
            "-o|config.dump=true|-o|pci.0.3.0.device=virtio-blk|-o|pci.0.3.0.path=/x|-c|1|vm",
            "-s|help|", "-l|help", "-h", "-c|0|vm", "-m|99999999999999T|vm", "-s|1:2:3,virtio-console,port=a:/nonexistent/s|vm",
            "-o|name=%(x)|-o|x=%(name)|", "-r|/nonexistent/snapshot|-s|0,hostbridge");

    static List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        for (String s : SEED_LINES) {
            seeds.add(s.replace('|', '\0').getBytes(StandardCharsets.UTF_8));
        }
        return seeds;
    }

    /** Parses {@code argv} as bhyve does and builds the machine's specification for a run. */
    static void parse(String... argv) {
        try {
            ParsedCommand p = BhyveCommandLine.parse(argv);
            if (p instanceof ParsedCommand.Run r && !r.configDump() && !r.tree().has("restore")) {
                MachineSpec.from(r.tree());
            }
        } catch (ConfigException e) {
            if (e.getMessage() == null || e.getMessage().contains("\n")) {
                throw new AssertionError("not a one-line error: " + e.getMessage(), e);
            }
        }
    }

    static final class Target implements Fuzz.Target {
        @Override
        public List<byte[]> seeds() {
            return CommandLineFuzzTest.seeds();
        }

        @Override
        public void run(byte[] input) {
            String text = new String(input, StandardCharsets.UTF_8);
            String[] argv = text.isEmpty() ? new String[0] : text.split("\0", -1);
            for (String a : argv) {
                if (a.contains("/dev/") || a.contains("/proc/")) {
                    return; // files a mutation might name that block or never end: not the parser's problem
                }
            }
            parse(argv);
        }
    }

    @Test
    void hostileCommandLinesFailWithOneLine() throws Exception {
        Fuzz.check("command line", 3000, new Target());
    }
}
