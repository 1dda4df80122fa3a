package org.jbhyve.control;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.UnixStreamSocket;

/**
 * The VM registry: one entry {@code RUNDIR/vmm/NAME} per VM (see {@link RunDirectory}).
 *
 * <pre>
 * NAME             while bhyve runs the VM: its control socket (mode 0600, {@link ControlServer});
 *                  while the VM is only created (bhyveload, bhyvectl --create): its {@link VmRecord}
 *                  as a JSON file (mode 0600)
 * .NAME.run        while bhyve runs: {"pid": P, "started": MILLIS, "record": RECORD-or-null},
 *                  written before the socket appears, so a socket always has its owner on file
 * .lock            flock(2) held for the few milliseconds a change of the registry takes
 * </pre>
 * An entry is never trusted: a socket whose connect is refused (its process died, even by
 * {@code kill -9}) and whose recorded process is gone (same pid and start time) is stale; it is
 * removed, and a created VM's record it hid is put back. A socket that refuses connections while
 * its process lives is a bhyve still stopping.
 *
 * <p>The socket is bound under a temporary name and renamed onto NAME, so a created VM's record
 * is replaced atomically and two bhyves racing for one name cannot both win (the second finds
 * the first's live socket under the lock).
 */
public final class Registry {
    /** Entry names: bhyve's VM names, which never start with a dot (the registry's own files do). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final int MAX_SOCKET_PATH = 107;
    private static final AtomicLong TEMPORARY_NAMES = new AtomicLong();
    /** Connections the control socket queues before the control thread accepts them. */
    private static final int LISTEN_BACKLOG = 16;

    private final Path dir;

    private Registry(Path dir) {
        this.dir = dir;
    }

    /** The registry of this user ({@link RunDirectory#resolve()}), created if needed. */
    public static Registry open() {
        return at(RunDirectory.resolve());
    }

    /** The registry under {@code rundir}, created if needed. */
    public static Registry at(Path rundir) {
        return new Registry(RunDirectory.prepare(rundir));
    }

    /** RUNDIR/vmm. */
    public Path directory() {
        return dir;
    }

    /** What is known about a name. */
    public sealed interface Entry {
        /**
         * The created VM's record a claim of this name carries over: a created VM's, or the one a
         * stale entry hid; null when there is none (absent) or the name is taken (running).
         */
        default VmRecord storedRecord() {
            return null;
        }

        /** No such VM. */
        record Absent() implements Entry {}

        /** Created, not running: its record. */
        record Created(VmRecord record) implements Entry {
            @Override
            public VmRecord storedRecord() {
                return record;
            }
        }

        /**
         * A bhyve owns the name; {@code accepting} is false while it is stopping (its socket no
         * longer answers); {@code pid} is -1 when not on file.
         */
        record Running(Path socket, long pid, boolean accepting) implements Entry {}

        /** Left behind by a process that is gone; {@code record} is the created VM it hid, or null. */
        record Stale(String why, VmRecord record) implements Entry {
            @Override
            public VmRecord storedRecord() {
                return record;
            }
        }
    }

    static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new ControlException(ControlException.EINVAL, "invalid VM name '" + name + "'");
        }
    }

    /** Every name with an entry, sorted. */
    public List<String> names() throws IOException {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> NAME.matcher(n).matches()).sorted().forEach(out::add);
        }
        return out;
    }

    /** Looks at {@code name}'s entry without changing anything. */
    public Entry inspect(String name) {
        checkName(name);
        Path entry = dir.resolve(name);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return new Entry.Absent();
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, entry + ": " + RunDirectory.reason(e), e);
        }
        if (a.isRegularFile()) {
            try {
                return new Entry.Created(RegistryFiles.record(Files.readString(entry)));
            } catch (IOException | RuntimeException e) {
                return new Entry.Stale("its record is unreadable", null);
            }
        }
        if (!a.isOther()) {
            throw new ControlException(ControlException.EEXIST, entry + " is neither a VM socket nor a VM record");
        }
        RunInfo run = readRunInfo(name);
        try (UnixStreamSocket _ = UnixStreamSocket.connect(entry.toString())) {
            return new Entry.Running(entry, run == null ? -1 : run.pid(), true);
        } catch (SysException refused) {
            // nobody listens (ECONNREFUSED), or another failure: decided by the process below
        }
        if (run != null && run.alive()) {
            return new Entry.Running(entry, run.pid(), false);
        }
        return new Entry.Stale(run == null ? "its socket has no listener and no owner on file"
                : "process " + run.pid() + " is gone", run == null ? null : run.record());
    }

    /**
     * Takes {@code name} for a bhyve about to run it: refuses a name in use, clears a stale
     * entry, binds the control socket and puts it in place. The claim carries the created VM's
     * record, if the name had one.
     *
     * @throws ControlException EBUSY when a bhyve already runs the VM
     */
    public Claim claim(String name) {
        checkName(name);
        // The lock is shared by all of this user's bhyves, so the work before it is done first:
        // the entry looked at, the control socket bound under its temporary name, the run info
        // made. The first claim in a process also loads the classes for sockets, JSON and process
        // handles (most of a second on a translated CPU); done under the lock, that made VMs
        // started together get their names one after the other.
        Prepared prepared;
        try {
            prepared = prepare(name, inspect(name).storedRecord());
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, "VM registry " + dir + ": " + RunDirectory.reason(e), e);
        }
        try (Lock _ = lock()) {
            // Type tests, not a pattern switch: see BhyveMain.run (start-up CPU).
            Entry entry = inspect(name);
            if (entry instanceof Entry.Running r) {
                throw new ControlException(ControlException.EBUSY, "vm " + name
                        + (r.accepting() ? " is already running" : " is still stopping")
                        + (r.pid() > 0 ? " (pid " + r.pid() + ")" : ""));
            }
            if (entry instanceof Entry.Stale) {
                clean(name);
            }
            return publish(name, prepared, entry.storedRecord());
        } catch (IOException e) {
            prepared.discard();
            throw new ControlException(ControlException.EACCES, "VM registry " + dir + ": " + RunDirectory.reason(e), e);
        } catch (RuntimeException e) {
            prepared.discard();
            throw e;
        }
    }

    /** A control socket bound under its temporary name, and the run info for {@code record}. */
    private record Prepared(Path temporary, UnixStreamSocket server, VmRecord record, String runInfo) {
        void discard() {
            try {
                server.close();
                Files.deleteIfExists(temporary);
            } catch (IOException e) {
                // a temporary name left behind is harmless: no entry name starts with a dot
            }
        }
    }

    private Prepared prepare(String name, VmRecord record) throws IOException {
        // Unique to this process and claim (threads may claim at once: the lock comes later).
        long pid = ProcessHandle.current().pid();
        Path temporary = dir.resolve("." + pid + "." + TEMPORARY_NAMES.incrementAndGet() + ".sock");
        if (Math.max(temporary.toString().length(), dir.resolve(name).toString().length()) > MAX_SOCKET_PATH) {
            throw new ControlException(ControlException.EINVAL, "the control socket path " + dir.resolve(name)
                    + " is too long for a Unix socket (JBHYVE_RUNDIR chooses a shorter place)");
        }
        Files.deleteIfExists(temporary);
        UnixStreamSocket server;
        try {
            server = UnixStreamSocket.listen(temporary.toString(), LISTEN_BACKLOG);
        } catch (SysException e) {
            throw new IOException("control socket " + temporary + ": " + e.getMessage(), e);
        }
        try {
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            return new Prepared(temporary, server, record, runInfo(record));
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(temporary);
            throw e;
        }
    }

    /** Under the lock: the run info written, then the socket renamed onto the entry. */
    private Claim publish(String name, Prepared prepared, VmRecord record) throws IOException {
        Path entry = dir.resolve(name);
        try {
            String runInfo = Objects.equals(record, prepared.record()) ? prepared.runInfo() : runInfo(record);
            writeAtomically(runInfoPath(name), runInfo);
            Files.move(prepared.temporary(), entry, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Object key = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return new Claim(this, name, prepared.server(), record, key);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(runInfoPath(name));
            throw e;
        }
    }

    private static String runInfo(VmRecord record) {
        return new RunInfo(ProcessHandle.current().pid(), startMillis(ProcessHandle.current()), record).toJson();
    }

    /**
     * Records a created VM (bhyveload, bhyvectl --create). With {@code replace}, an existing
     * created VM is redefined (bhyveload reloads a VM, as FreeBSD's reinitialises it).
     *
     * @throws ControlException EEXIST when the VM exists (and may not be replaced), EBUSY when
     *                          it is running
     */
    public void create(VmRecord record, boolean replace) {
        checkName(record.name());
        try (Lock _ = lock()) {
            switch (inspect(record.name())) {
                case Entry.Running r -> throw new ControlException(ControlException.EBUSY, "vm " + record.name()
                        + " is running" + (r.pid() > 0 ? " (pid " + r.pid() + ")" : ""));
                case Entry.Created c when !replace -> throw new ControlException(ControlException.EEXIST,
                        "vm " + record.name() + " already exists");
                case Entry.Stale s -> clean(record.name());
                default -> {
                }
            }
            writeAtomically(dir.resolve(record.name()), record.toJson());
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, "VM registry " + dir + ": " + RunDirectory.reason(e), e);
        }
    }

    /**
     * Removes a created (or stale) VM's entry. A running VM is not touched: it is returned so the
     * caller can ask it to stop (bhyvectl --destroy).
     *
     * @throws ControlException ENOENT when there is no such VM
     */
    public Optional<Entry.Running> destroy(String name) {
        checkName(name);
        try (Lock _ = lock()) {
            switch (inspect(name)) {
                case Entry.Running r -> {
                    return Optional.of(r);
                }
                case Entry.Absent a -> throw new ControlException(ControlException.ENOENT,
                        "vm " + name + " does not exist");
                default -> clean(name);
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, "VM registry " + dir + ": " + RunDirectory.reason(e), e);
        }
    }

    /** Removes a stale entry (with its .run file), putting back the created VM it hid. */
    public void removeStale(String name) {
        checkName(name);
        try (Lock _ = lock()) {
            if (inspect(name) instanceof Entry.Stale s) {
                clean(name);
                if (s.record() != null) {
                    writeAtomically(dir.resolve(name), s.record().toJson());
                }
            }
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, "VM registry " + dir + ": " + RunDirectory.reason(e), e);
        }
    }

    /** Ends a claim: the entry goes, or becomes the created VM's record again (see {@link Claim#release}). */
    void release(Claim claim, boolean keepRecord) throws IOException {
        try (Lock _ = lock()) {
            Path entry = dir.resolve(claim.name());
            Object key = null;
            try {
                key = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            } catch (NoSuchFileException gone) {
                // someone removed it: nothing of ours to take away
            }
            boolean ours = key != null && key.equals(claim.fileKey());
            if (keepRecord && claim.record() != null && (ours || key == null)) {
                writeAtomically(entry, claim.record().toJson());
            } else if (ours) {
                Files.deleteIfExists(entry);
            }
            Files.deleteIfExists(runInfoPath(claim.name()));
        }
    }

    private void clean(String name) throws IOException {
        Files.deleteIfExists(dir.resolve(name));
        Files.deleteIfExists(runInfoPath(name));
    }

    /**
     * The registry lock: fcntl locks (FileChannel.lock) exclude other processes only, so threads
     * of this process also take {@link #IN_PROCESS}.
     */
    private Lock lock() throws IOException {
        IN_PROCESS.lock();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(dir.resolve(".lock"), Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return new Lock(channel, channel.lock());
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            IN_PROCESS.unlock();
            throw e;
        }
    }

    private static final ReentrantLock IN_PROCESS = new ReentrantLock();

    private record Lock(FileChannel channel, FileLock lock) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                lock.release();
                channel.close();
            } finally {
                IN_PROCESS.unlock();
            }
        }
    }

    private Path runInfoPath(String name) {
        return dir.resolve("." + name + ".run");
    }

    private RunInfo readRunInfo(String name) {
        try {
            return RegistryFiles.runInfo(Files.readString(runInfoPath(name), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Writes a 0600 file under a temporary name, then renames it into place. */
    private void writeAtomically(Path target, String json) throws IOException {
        Path temporary = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(temporary);
        Files.writeString(Files.createFile(temporary,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                json + "\n", StandardCharsets.UTF_8);
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static long startMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    /** The owner of a running entry, as .NAME.run holds it. */
    record RunInfo(long pid, long started, VmRecord record) {
        /** The same process still exists: same pid, and the same start time when both are known. */
        boolean alive() {
            Optional<ProcessHandle> p = ProcessHandle.of(pid);
            if (p.isEmpty() || !p.get().isAlive()) {
                return false;
            }
            long now = startMillis(p.get());
            return started == 0 || now == 0 || Math.abs(now - started) < 1000;
        }

        /** One line of JSON: {"pid": P, "started": MILLIS, "record": RECORD-or-null}. */
        String toJson() {
            Map<String, String> o = new LinkedHashMap<>();
            o.put("pid", Long.toString(pid));
            o.put("started", Long.toString(started));
            o.put("record", record == null ? "null" : record.toJson());
            return JsonText.object(o);
        }
    }
}
