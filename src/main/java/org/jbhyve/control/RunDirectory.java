package org.jbhyve.control;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * Where the VM registry lives: {@code RUNDIR/vmm}, the answer to FreeBSD's {@code ls /dev/vmm}.
 *
 * <pre>
 * RUNDIR = $JBHYVE_RUNDIR                  when set
 *        = /run/jbhyve                     for root
 *        = $XDG_RUNTIME_DIR/jbhyve         for other users
 *        = $TMPDIR-or-/tmp/jbhyve-UID      when XDG_RUNTIME_DIR is not set either
 * </pre>
 * RUNDIR and RUNDIR/vmm are made mode 0700; an existing RUNDIR/vmm must belong to the caller
 * (and is put back to 0700), since anyone who can write there could stand in for a VM.
 */
public final class RunDirectory {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private RunDirectory() {}

    /** RUNDIR for this process's environment and user. */
    public static Path resolve() {
        return resolve(System.getenv(), uid(), System.getProperty("java.io.tmpdir", "/tmp"));
    }

    /** RUNDIR for {@code env} and {@code uid} (tests call this directly). */
    static Path resolve(Map<String, String> env, int uid, String tmpdir) {
        String explicit = env.get("JBHYVE_RUNDIR");
        if (explicit != null && !explicit.isEmpty()) {
            return Path.of(explicit);
        }
        if (uid == 0) {
            return Path.of("/run/jbhyve");
        }
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "jbhyve");
        }
        return Path.of(tmpdir, "jbhyve-" + uid);
    }

    /** The effective uid of this process: the owner of /proc/self. */
    public static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    /**
     * Creates (if needed) and checks {@code rundir/vmm}; returns it.
     *
     * @throws ControlException when it cannot be made, is not a directory, or belongs to
     *                          another user
     */
    static Path prepare(Path rundir) {
        Path vmm = rundir.resolve("vmm");
        try {
            makeDirectory(rundir, false);
            makeDirectory(vmm, true);
        } catch (IOException e) {
            throw new ControlException(ControlException.EACCES, "cannot create the VM registry " + vmm + ": "
                    + reason(e) + " (JBHYVE_RUNDIR chooses another place)", e);
        }
        return vmm;
    }

    private static void makeDirectory(Path dir, boolean mustOwn) throws IOException {
        try {
            Files.createDirectories(dir.getParent());
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.setPosixFilePermissions(dir, OWNER_ONLY); // the umask may have taken bits away
            return;
        } catch (FileAlreadyExistsException e) {
            // checked below
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("not a directory");
        }
        if (mustOwn) {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int me = uid();
            if (me >= 0 && owner != me) {
                throw new IOException("owned by uid " + owner + ", not by uid " + me);
            }
            if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(dir, OWNER_ONLY);
            }
        }
    }

    /**
     * strerror(3)'s words for a failed file operation of the JDK, whose NoSuchFileException and
     * AccessDeniedException carry only the path: the same words as {@code sys.Errno.reason},
     * which this package may not import (control never reaches the system directly).
     */
    static String reason(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> "No such file or directory";
            case java.nio.file.AccessDeniedException x -> "Permission denied";
            case java.nio.file.FileAlreadyExistsException x -> "File exists";
            case java.nio.file.NotDirectoryException x -> "Not a directory";
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() == null ? e.toString() : e.getMessage();
        };
    }
}
