package org.jbhyve.fuzz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.config.ConfigException;
import org.junit.jupiter.api.Test;

/**
 * {@code -k} configuration files: the input is the file's bytes, read through
 * {@code bhyve -k FILE vm} (so after the file come the name check, the topology, the memory size
 * and the machine's specification). Seeds are valid files (comments, blank lines, CRLF, every
 * kind of key, %(var) expansions); mutations produce invalid UTF-8, missing '=', odd keys,
 * self-referencing expansions and numbers out of range.
 *
 * <p>A crash is any exception other than {@link ConfigException}, or one whose message is not
 * one line.
 */
class ConfigFileFuzzTest {
    private static final List<String> SEED_FILES = List.of(
            """
            # a VM
            name=vm1
            cpus=2
            sockets=1
            cores=2
            memory.size=512M
            pci.0.0.0.device=hostbridge
            pci.0.31.0.device=lpc
            lpc.com1.path=stdio

            pci.0.3.0.device=virtio-blk
            pci.0.3.0.path=/nonexistent/disk.img
            pci.0.3.0.ro=true
            """,
            "name=vm\r\nmemory.size=1G\r\ngdb.port=1234\r\ngdb.address=::1\r\ngdb.wait=true\r\nvcpu.0.cpuset=0,1\r\ncpus=2\r\n",
            "acpi_tables=true\nx86.strictmsr=false\nx86.vmexit_on_hlt=yes\nrtc.use_localtime=0\nuuid=12345678-1234-1234-1234-123456789abc\n",
            "boot.kernel=/nonexistent/vmlinuz\nboot.initrd=/nonexistent/initrd\nboot.cmdline=console=ttyS0 %(name)\n",
            "lpc.bootrom=/nonexistent/code.fd\nlpc.bootvars=/nonexistent/vars.fd\nlpc.fwcfg=qemu\n",
            "base=/nonexistent\npci.0.4.0.device=nvme\npci.0.4.0.ram=16\npci.0.4.0.maxq=2\npci.0.5.0.device=ahci\n"
                    + "pci.0.5.0.port.0.type=hd\npci.0.5.0.port.0.path=%(base)/a.img\n",
            "pci.0.6.0.device=e1000\npci.0.6.0.backend=tap0\npci.0.6.0.mac=00:a0:98:00:00:01\npci.0.7.0.device=fbuf\n"
                    + "pci.0.7.0.tcp=0.0.0.0:5900\npci.0.7.0.w=800\npci.0.7.0.h=600\n",
            "config.dump=false\nmemory.wired=true\nmemory.guest_in_core=true\ndestroy_on_poweroff=true\nlpc.pc-testdev=true\n");

    static final class Target implements Fuzz.Target {
        private final Path file;

        Target() throws IOException {
            file = Fuzz.tempFile(".conf");
        }

        @Override
        public List<byte[]> seeds() {
            return SEED_FILES.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        }

        @Override
        public void run(byte[] input) throws IOException {
            String text = new String(input, StandardCharsets.ISO_8859_1);
            if (text.contains("/dev/") || text.contains("/proc/")) {
                return; // a kernel path that blocks when probed: not the parser's problem
            }
            Files.write(file, input);
            CommandLineFuzzTest.parse("-k", file.toString(), "vm");
        }

        @Override
        public void close() throws IOException {
            Files.deleteIfExists(file);
        }
    }

    /** Found by this target: a NUL in a path reached Path.of and came out as "internal error". */
    @Test
    void aNulByteInAValueIsAConfigurationError() throws Exception {
        Path file = Fuzz.tempFile(".conf");
        try {
            Files.write(file, "name=vm\nboot.kernel=/nonexistent/vm\0linuz\n".getBytes(StandardCharsets.UTF_8));
            ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                    () -> org.jbhyve.cli.BhyveCommandLine.parse("-k", file.toString(), "vm"));
            org.junit.jupiter.api.Assertions.assertEquals(file + " line 2: a NUL byte in 'boot.kernel=/nonexistent/vm linuz'",
                    e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void hostileConfigFilesFailWithOneLine() throws Exception {
        Fuzz.check("-k config file", 3000, new Target());
    }
}
