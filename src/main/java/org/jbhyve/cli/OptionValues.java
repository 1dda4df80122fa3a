package org.jbhyve.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.config.Topology;
import org.jbhyve.sys.Errno;

/**
 * The values of bhyve's options that are not devices: {@code -c}, {@code -G},
 * {@code -p}, {@code -o}, {@code -k}, {@code -U} and the VM name, each read the
 * way bhyve's {@code bhyverun.c} reads it and written into the tree with its
 * keys. Errors are one-line {@link ConfigException}s quoting the value.
 */
final class OptionValues {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern UUID = Pattern.compile(
            "\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");
    private static final Pattern PIN = Pattern.compile("(\\d{1,9}):(\\d{1,9})");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");

    /** The longest {@code -k} file read: settings trees are a few kilobytes. */
    static final int CONFIG_FILE_LIMIT = 1 << 20;

    private OptionValues() {
    }

    static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new ConfigException("invalid vmname '" + name
                    + "': letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        if (name.length() > BhyveCommandLine.MAX_NAME_LENGTH) {
            throw new ConfigException("invalid vmname '" + name + "': longer than " + BhyveCommandLine.MAX_NAME_LENGTH
                    + " characters");
        }
    }

    static void checkUuid(String uuid) {
        if (!UUID.matcher(uuid).matches()) {
            throw new ConfigException("invalid UUID '" + uuid + "' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
        }
    }

    /** bhyve's topology_parse(): known keys by prefix, a bare number is cpus, "" is one vCPU. */
    static void parseTopology(ConfigTree tree, String opt) {
        if (opt.isEmpty()) {
            for (String key : List.of("sockets", "cores", "threads", "cpus")) {
                tree.set(key, "1");
            }
            return;
        }
        for (String item : opt.split(",", -1)) {
            String key = "cpus";
            String value = item;
            int eq = item.indexOf('=');
            if (eq >= 0) {
                key = item.substring(0, eq);
                value = item.substring(eq + 1);
                if (!List.of("cpus", "sockets", "cores", "threads").contains(key)) {
                    throw new ConfigException("invalid cpu topology '" + opt + "': unknown setting '" + key + "'");
                }
            }
            if (value.isEmpty()) {
                throw new ConfigException("invalid cpu topology '" + opt + "': empty " + key);
            }
            tree.set(key, value);
        }
    }

    /** {@code -G [w][addr:]port}; the address is everything before the last colon. */
    static void parseGdb(ConfigTree tree, String opt) {
        String s = opt;
        boolean wait = s.startsWith("w");
        if (wait) {
            s = s.substring(1);
        }
        int colon = s.lastIndexOf(':');
        String port = colon < 0 ? s : s.substring(colon + 1);
        String address = colon < 0 ? null : s.substring(0, colon);
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new ConfigException("invalid debug server port '" + port + "' in -G " + opt
                    + " (expected [w][addr:]port, port 1-65535)");
        }
        if (address != null && address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1); // [::1]:1234
        }
        if (address != null && address.isEmpty()) {
            throw new ConfigException("invalid debug server address in -G " + opt);
        }
        if (wait) {
            tree.setBoolean("gdb.wait", true);
        }
        if (address != null) {
            tree.set("gdb.address", address);
        }
        tree.set("gdb.port", port);
    }

    /** {@code -p vcpu:hostcpu}: appends the host CPU to vcpu.N.cpuset. */
    static void pinVcpu(ConfigTree tree, String opt) {
        Matcher m = PIN.matcher(opt);
        if (!m.matches()) {
            throw new ConfigException("invalid vcpu pinning configuration '" + opt + "' (expected vcpu:hostcpu)");
        }
        int vcpu = Integer.parseInt(m.group(1));
        int host = Integer.parseInt(m.group(2));
        if (vcpu >= Topology.MAX_CPUS) {
            throw new ConfigException("invalid vcpu pinning configuration '" + opt + "': vcpu " + vcpu
                    + " outside valid range from 0 to " + (Topology.MAX_CPUS - 1));
        }
        if (host >= BhyveCommandLine.CPU_SETSIZE) {
            throw new ConfigException("invalid vcpu pinning configuration '" + opt + "': hostcpu " + host
                    + " outside valid range from 0 to " + (BhyveCommandLine.CPU_SETSIZE - 1));
        }
        String key = "vcpu." + vcpu + ".cpuset";
        tree.set(key, tree.getRaw(key).map(old -> old + "," + host).orElse(Integer.toString(host)));
    }

    /** bhyve's parse_config_option(): {@code key=value} with a non-empty value. */
    static boolean setOption(ConfigTree tree, String option) {
        int eq = option.indexOf('=');
        if (eq < 0 || eq == option.length() - 1) {
            return false;
        }
        tree.set(option.substring(0, eq), option.substring(eq + 1));
        return true;
    }

    /**
     * {@code -k file}: one {@code key=value} per line; blank lines and lines
     * starting with {@code #} are skipped. Errors name the file and line.
     * The file may be a pipe ({@code -k <(...)}), so its size is not known
     * beforehand: reading stops after {@link #CONFIG_FILE_LIMIT} bytes.
     */
    static void readConfigFile(ConfigTree tree, String file) {
        List<String> lines;
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            byte[] text = in.readNBytes(CONFIG_FILE_LIMIT + 1);
            if (text.length > CONFIG_FILE_LIMIT) {
                throw new ConfigException("Failed to read configuration file " + file + ": longer than "
                        + (CONFIG_FILE_LIMIT >> 20) + " MiB");
            }
            lines = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(text)).toString().lines().toList();
        } catch (CharacterCodingException e) {
            throw new ConfigException("Failed to read configuration file " + file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException("Failed to open configuration file " + file + ": " + Errno.reason(e));
        } catch (InvalidPathException e) {
            throw new ConfigException("Failed to open configuration file " + file + ": " + e.getReason());
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.isBlank() || line.strip().startsWith("#")) {
                continue;
            }
            if (line.indexOf('\0') >= 0) { // no path or value may hold one (Path.of refuses it)
                throw new ConfigException(file + " line " + (i + 1) + ": a NUL byte in '" + line.replace('\0', ' ') + "'");
            }
            try {
                if (!setOption(tree, line)) {
                    throw new ConfigException("invalid config option '" + line + "'");
                }
            } catch (ConfigException e) {
                throw new ConfigException(file + " line " + (i + 1) + ": " + e.getMessage());
            }
        }
    }
}
