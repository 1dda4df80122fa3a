package org.jbhyve.backend.chr;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jbhyve.sys.Errno;

/**
 * The user's end of a FreeBSD null-modem pair, as a symbolic link to a Linux pseudo-terminal.
 *
 * <p>FreeBSD's nmdm(4) devices come in pairs that the kernel creates on first open: bhyve opens
 * {@code /dev/nmdm0A} (any name {@code nmdmXA}), the user attaches to {@code /dev/nmdm0B} with
 * {@code cu -l /dev/nmdm0B}. Linux has no such driver, so bhyve gets a pty pair and, when it may
 * write to {@code /dev} (root), links the other name to the pty's peer: {@code /dev/nmdm0B ->
 * /dev/pts/5}. A value ending in B gets its link at the A name, as the pair is symmetric.
 *
 * <p>A symbolic link already at that name is replaced atomically (a VM killed with SIGKILL
 * leaves its link behind; the newest VM of the name wins). Anything else there is left alone.
 * The link is removed at close, but only if it still points at this VM's pty, so a VM that
 * ends never removes a newer VM's link.
 *
 * <p>Access: Debian's {@code cu}, run as root, drops to the {@code uucp} user before it opens the
 * line, and serial lines belong to the {@code dialout} group there. So the linked peer is given
 * to {@code uucp:dialout} with mode 0660 (each part only if that user or group exists): root's
 * {@code cu -l /dev/nmdm0B}, members of dialout and {@code screen} as root all attach.
 */
final class NmdmLink implements AutoCloseable {
    private static final Pattern NMDM = Pattern.compile("(.*/nmdm[^/]*)([AB])");

    private final Path link;
    private final Path target;

    private NmdmLink(Path link, Path target) {
        this.link = link;
        this.target = target;
    }

    /** What {@link #create} did: the link (null if none) and the announcement's tail. */
    record Outcome(NmdmLink link, String note) {}

    /** The other name of an nmdm pair ({@code /dev/nmdm0A} -> {@code /dev/nmdm0B}), if {@code value} is one. */
    static Optional<Path> userSide(String value) {
        Matcher m = NMDM.matcher(value);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(Path.of(m.group(1) + (m.group(2).equals("A") ? "B" : "A")));
    }

    /**
     * Links {@code link} to the pty peer {@code target}. Never fails the VM: when the link cannot
     * be made, the outcome says why and the user attaches to the peer path itself.
     */
    static Outcome create(Path link, String target) {
        Path peer = Path.of(target);
        String replaced = "";
        try {
            if (Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isSymbolicLink(link)) {
                    return new Outcome(null, target + " (" + link + " exists and is not a link: left alone)");
                }
                Path old = Files.readSymbolicLink(link);
                if (Files.exists(old)) {
                    replaced = " (replaced a link to " + old + ")";
                }
            }
            Path tmp = link.resolveSibling("." + link.getFileName() + "." + ProcessHandle.current().pid());
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, peer);
            Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AccessDeniedException e) {
            return new Outcome(null, target + " (no " + link + " link: only root can create it)");
        } catch (IOException e) {
            return new Outcome(null, target + " (no " + link + " link: " + Errno.reason(e) + ")");
        } catch (UnsupportedOperationException e) {
            return new Outcome(null, target + " (no " + link + " link: " + e.getMessage() + ")");
        }
        giveToSerialUsers(peer);
        return new Outcome(new NmdmLink(link, peer), link + " -> " + target + replaced);
    }

    /** uucp:dialout 0660, as far as that user and group exist; best effort. */
    private static void giveToSerialUsers(Path peer) {
        UserPrincipalLookupService names = FileSystems.getDefault().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(peer, PosixFileAttributeView.class);
        try {
            view.setOwner(names.lookupPrincipalByName("uucp"));
        } catch (UserPrincipalNotFoundException e) {
            // no uucp user: cu is not installed, nothing to adapt to
        } catch (IOException e) {
            return;
        }
        try {
            GroupPrincipal dialout = names.lookupPrincipalByGroupName("dialout");
            view.setGroup(dialout);
            view.setPermissions(PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            // no dialout group, or not allowed: the pty keeps grantpt's owner and mode
        }
    }

    /** Where the link is. */
    Path path() {
        return link;
    }

    /** Removes the link if it still points at this VM's pty. Idempotent. */
    @Override
    public void close() {
        try {
            if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target)) {
                Files.delete(link);
            }
        } catch (IOException e) {
            // already gone, or replaced between the check and the delete: not ours any more
        }
    }
}
