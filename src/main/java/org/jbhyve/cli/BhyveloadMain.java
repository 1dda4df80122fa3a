package org.jbhyve.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.control.ControlException;
import org.jbhyve.control.Registry;
import org.jbhyve.control.VmRecord;
import org.jbhyve.machine.KernelCheck;
import org.jbhyve.machine.MachineException;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.machine.boot.BootFile;

/**
 * {@code bhyveload [-CS] [-c cons-dev] [-d disk-path] [-e name=value] [-h host-path]
 * [-m mem-size] vmname}: bhyveload(8) on Linux. FreeBSD's bhyveload runs the FreeBSD loader
 * (userboot) to load a kernel into a newly created VM; Linux has no such loader, so the kernel
 * is named by the loader variables {@code -e boot.kernel=PATH} (with {@code boot.initrd} and
 * {@code boot.cmdline}), checked ({@link KernelCheck}: format, fits in {@code -m}), and the VM
 * is created in the registry with what was loaded ({@link VmRecord}). {@code bhyve ... vmname}
 * then boots it; {@code bhyvectl --destroy --vm=vmname} removes it. Running bhyveload again on
 * a created VM redefines it, as FreeBSD reinitialises it.
 *
 * <pre>
 * -m size      guest memory (default 256M), as bhyve's -m, with an optional B after the unit
 * -e name=val  loader variable; boot.kernel, boot.initrd, boot.cmdline are used, all are kept
 * -h dir       relative boot.kernel and boot.initrd paths are taken from there
 * -d path      the boot disk (must be readable and writable; recorded)
 * -c dev       the loader's console: "stdio" or a tty device (recorded)
 * -S, -C       wire guest memory, include it in core dumps (bhyve -S, -C)
 * -l loader    refused: FreeBSD's userboot.so cannot run here
 * </pre>
 * Exit status: 0 done; 1 usage, bad kernel, or a VM that is running; 64 (EX_USAGE) for an
 * option value that cannot be used, as bhyveload's errx(EX_USAGE).
 */
public final class BhyveloadMain {
    static final String PROGRAM = "bhyveload";
    static final int EX_USAGE = 64;
    private static final String OPTIONS = "CSc:d:e:h:l:m:";

    private BhyveloadMain() {}

    public static void main(String[] args) {
        System.exit(run(args, System.err, Registry::open));
    }

    /** Thrown with the exit status to use and a one-line message. */
    static final class Failure extends RuntimeException {
        final int status;

        Failure(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    static String usage() {
        return "usage: " + PROGRAM + " [-CS] [-c <console-device>] [-d <disk-path>] [-e <name=value>]"
                + " [-h <host-path>] [-m memsize[K|k|M|m|G|g|T|t]] <vmname>";
    }

    static int run(String[] args, PrintStream err, Supplier<Registry> registry) {
        try {
            VmRecord record = parse(args);
            KernelCheck.check(Path.of(record.kernel()), record.initrd() == null ? null : Path.of(record.initrd()),
                    record.cmdline(), record.memory());
            registry.get().create(record, true);
            return 0;
        } catch (Failure f) {
            err.println(f.getMessage());
            return f.status;
        } catch (BootException | MachineException | ConfigException | ControlException e) {
            err.println(PROGRAM + ": " + e.getMessage());
            return 1;
        }
    }

    /** The command line as the record bhyve will boot from; every check that needs no KVM. */
    static VmRecord parse(String... args) {
        boolean wired = false;
        boolean inCore = false;
        String console = "stdio";
        String hostPath = null;
        long memory = 256L << 20;
        List<String> disks = new ArrayList<>();
        Map<String, String> env = new LinkedHashMap<>();
        int i = 0;
        while (i < args.length && args[i].startsWith("-") && args[i].length() > 1) {
            String arg = args[i++];
            if (arg.equals("--")) {
                break;
            }
            for (int k = 1; k < arg.length(); k++) {
                char c = arg.charAt(k);
                int at = OPTIONS.indexOf(c);
                if (at < 0 || c == ':') {
                    throw new Failure(1, PROGRAM + ": illegal option -- " + c + "; " + usage());
                }
                if (at + 1 < OPTIONS.length() && OPTIONS.charAt(at + 1) == ':') {
                    String value;
                    if (k + 1 < arg.length()) {
                        value = arg.substring(k + 1);
                    } else if (i < args.length) {
                        value = args[i++];
                    } else {
                        throw new Failure(1, PROGRAM + ": option requires an argument -- " + c + "; " + usage());
                    }
                    switch (c) {
                        case 'c' -> console = console(value);
                        case 'd' -> disks.add(disk(value));
                        case 'e' -> {
                            int eq = value.indexOf('=');
                            if (eq <= 0) {
                                throw new Failure(EX_USAGE, PROGRAM + ": -e " + value + ": expected name=value");
                            }
                            env.put(value.substring(0, eq), value.substring(eq + 1));
                        }
                        case 'h' -> hostPath = hostPath(value);
                        case 'l' -> throw new Failure(EX_USAGE, PROGRAM + ": -l " + value
                                + ": FreeBSD's userboot loaders do not run on Linux; name the kernel with"
                                + " -e boot.kernel=PATH");
                        case 'm' -> memory = memory(value);
                        default -> throw new IllegalStateException("option -" + c);
                    }
                    break;
                }
                if (c == 'C') {
                    inCore = true;
                } else {
                    wired = true;
                }
            }
        }
        if (args.length - i != 1) {
            throw new Failure(1, usage());
        }
        String name = args[i];
        OptionValues.checkName(name);
        String kernel = env.get("boot.kernel");
        if (kernel == null || kernel.isEmpty()) {
            throw new Failure(1, PROGRAM + ": no kernel to load: give -e boot.kernel=PATH (and optionally"
                    + " boot.initrd, boot.cmdline; -h DIR for relative paths)");
        }
        String initrd = env.get("boot.initrd");
        return new VmRecord(name, PROGRAM, memory, wired, inCore, resolve(hostPath, kernel, "boot.kernel"),
                initrd == null || initrd.isEmpty() ? null : resolve(hostPath, initrd, "boot.initrd"),
                env.get("boot.cmdline"), hostPath, disks, console, env);
    }

    /** vm_parse_memsize, accepting "256MB" as bhyveload(8)'s example writes it. */
    private static long memory(String value) {
        String v = value.length() > 1 && (value.endsWith("B") || value.endsWith("b"))
                && Character.isLetter(value.charAt(value.length() - 2)) ? value.substring(0, value.length() - 1) : value;
        try {
            return (ConfigTree.parseMemorySize(v) + 4095) & ~4095L;
        } catch (ConfigException e) {
            throw new Failure(EX_USAGE, PROGRAM + ": Invalid memsize '" + value + "'");
        }
    }

    private static String console(String value) {
        if (value.equals("stdio")) {
            return value;
        }
        Path p = path(value);
        if (!Files.exists(p) || Files.isDirectory(p) || Files.isRegularFile(p)
                || !Files.isReadable(p) || !Files.isWritable(p)) {
            throw new Failure(EX_USAGE, PROGRAM + ": Could not open '" + value + "'");
        }
        return p.toAbsolutePath().toString();
    }

    private static String disk(String value) {
        Path p = path(value);
        if (!Files.exists(p) || Files.isDirectory(p) || !Files.isReadable(p) || !Files.isWritable(p)) {
            throw new Failure(EX_USAGE, PROGRAM + ": Could not open '" + value + "'");
        }
        return p.toAbsolutePath().toString();
    }

    private static String hostPath(String value) {
        Path p = path(value);
        if (!Files.isDirectory(p)) {
            throw new Failure(EX_USAGE, PROGRAM + ": -h " + value + ": not a directory");
        }
        return p.toAbsolutePath().normalize().toString();
    }

    /** A boot file, relative to the host path when one is given (bhyveload's -h), else to the cwd. */
    private static String resolve(String hostPath, String file, String key) {
        Path p = path(file);
        if (!p.isAbsolute()) {
            p = hostPath == null ? p.toAbsolutePath() : Path.of(hostPath).resolve(p);
        }
        p = p.normalize();
        try {
            BootFile.requireRegularFile(key, p);
        } catch (BootException e) {
            throw new Failure(1, PROGRAM + ": " + e.getMessage());
        }
        return p.toString();
    }

    private static Path path(String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new Failure(EX_USAGE, PROGRAM + ": invalid path '" + value + "'");
        }
    }
}
