package org.jbhyve.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a copy of {@code bin/vmrun.sh} in a scratch directory with a fake bhyve and bhyvectl.
 *
 * <p>The fake bhyve records each invocation: its arguments one a line in {@code argv.N}, the
 * state of the taps named in {@code FAKE_WATCH_TAPS} in {@code tap.N.NAME} ({@code ip -d -o link
 * show}), its standard input in {@code stdin.N} and its ignored-signal mask in {@code sigign.N};
 * then it exits with line N of {@code statuses} (1 when there is none). The status
 * {@code wait-term} makes it wait for SIGTERM, write {@code TERM} to {@code signals.N} and exit
 * with the status after the colon ({@code wait-term:0}); {@code install:N} writes a boot signature
 * into {@code $FAKE_INSTALL_DISK}, as an installer would, and exits with N. The fake bhyvectl appends its arguments
 * to {@code bhyvectl.log}. Firmware paths point at small files in the directory.
 */
final class VmrunHarness {
    static final Path HOME = Path.of(System.getProperty("jbhyve.home", ".")).toAbsolutePath().normalize();

    private static final String FAKE_BHYVE = """
            #!/usr/bin/env bash
            d=$(dirname "$(readlink -f "$0")")
            n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
            echo "$n" > "$d/count"
            printf '%s\\n' "$@" > "$d/argv.$n"
            for t in ${FAKE_WATCH_TAPS:-}; do ip -d -o link show dev "$t" > "$d/tap.$n.$t" 2>&1; done
            readlink /proc/self/fd/0 > "$d/stdin.$n"
            grep SigIgn /proc/self/status > "$d/sigign.$n"
            status=$(sed -n "${n}p" "$d/statuses" 2>/dev/null)
            case $status in
            install:*)
                printf '\\x55\\xaa' | dd of="$FAKE_INSTALL_DISK" bs=1 seek=510 conv=notrunc status=none
                status=${status#install:}
                ;;
            wait-term:*)
                trap 'echo TERM >> "$d/signals.$n"; exit "${status#wait-term:}"' TERM
                echo ready > "$d/ready.$n"
                while :; do sleep 0.05; done
                ;;
            esac
            exit "${status:-1}"
            """;
    private static final String FAKE_BHYVECTL = """
            #!/usr/bin/env bash
            echo "$*" >> "$(dirname "$(readlink -f "$0")")/bhyvectl.log"
            """;

    final Path dir;
    final Path script;
    final Path bios;
    final Path uefiCode;
    final Path uefiVars;

    VmrunHarness(Path dir) {
        this.dir = dir;
        try {
            Path bin = Files.createDirectories(dir.resolve("jbhyve/bin/lib"));
            script = Files.copy(HOME.resolve("bin/vmrun.sh"), bin.getParent().resolve("vmrun.sh"));
            Files.copy(HOME.resolve("bin/lib/vmrun-tap.sh"), bin.resolve("vmrun-tap.sh"));
            executable(dir.resolve("fake-bhyve"), FAKE_BHYVE);
            executable(dir.resolve("fake-bhyvectl"), FAKE_BHYVECTL);
            bios = Files.writeString(dir.resolve("bios.bin"), "BIOS");
            uefiCode = Files.writeString(dir.resolve("code.fd"), "CODE");
            uefiVars = Files.writeString(dir.resolve("vars.fd"), "VARS-TEMPLATE");
            // Open to every user, so the script can also run as nobody (the non-root tap case).
            for (Path p : List.of(dir, dir.resolve("jbhyve"), bin.getParent(), bin)) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void executable(Path p, String text) throws IOException {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The exit statuses the fake bhyve returns, one per invocation. */
    VmrunHarness statuses(String... statuses) {
        write("statuses", String.join("\n", statuses) + "\n");
        return this;
    }

    /** A disk image of {@code size} bytes, with the 0x55AA boot signature when {@code bootable}. */
    Path disk(String name, boolean bootable) {
        byte[] b = new byte[4096];
        if (bootable) {
            b[510] = 0x55;
            b[511] = (byte) 0xAA;
        }
        try {
            Path p = dir.resolve(name);
            Files.createDirectories(p.getParent());
            return Files.write(p, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path write(String name, String text) {
        try {
            return Files.writeString(dir.resolve(name), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The command that runs the script, optionally behind a prefix (unshare, setpriv). */
    ProcessBuilder command(List<String> prefix, String... args) {
        // The script starts with SIGINT and SIGQUIT at their defaults, as from a terminal, even when
        // the tests themselves run as a background job (which ignores both, and a shell cannot undo).
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT,QUIT"));
        cmd.addAll(prefix);
        cmd.add("bash");
        cmd.add(script.toString());
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("JBHYVE_BHYVE", dir.resolve("fake-bhyve").toString());
        pb.environment().put("JBHYVE_BHYVECTL", dir.resolve("fake-bhyvectl").toString());
        pb.environment().put("JBHYVE_BIOS", bios.toString());
        pb.environment().put("JBHYVE_UEFI_CODE", uefiCode.toString());
        pb.environment().put("JBHYVE_UEFI_VARS", uefiVars.toString());
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        return pb;
    }

    record Result(int status, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }

    Result run(String... args) {
        return run(command(List.of(), args));
    }

    static Result run(ProcessBuilder pb) {
        try {
            Path out = Files.createTempFile("vmrun", ".out");
            Path err = Files.createTempFile("vmrun", ".err");
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "vmrun.sh did not finish");
            Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** How many times the fake bhyve ran. */
    int runs() {
        String s = read("count");
        return s == null ? 0 : Integer.parseInt(s.strip());
    }

    /** The arguments of run {@code n} (from 1). */
    List<String> argv(int n) {
        String s = read("argv." + n);
        return s == null ? null : List.of(s.split("\n", -1)).subList(0, s.split("\n", -1).length - 1);
    }

    /** A file the fakes wrote, or null. */
    String read(String name) {
        Path p = dir.resolve(name);
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
