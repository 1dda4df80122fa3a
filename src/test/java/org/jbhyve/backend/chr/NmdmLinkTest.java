package org.jbhyve.backend.chr;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Optional;
import org.jbhyve.sys.PseudoTerminal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NmdmLinkTest {
    @TempDir
    Path dir;

    @Test
    void theUsersSideIsTheOtherLetter() {
        assertEquals(Optional.of(Path.of("/dev/nmdm0B")), NmdmLink.userSide("/dev/nmdm0A"));
        assertEquals(Optional.of(Path.of("/dev/nmdm0A")), NmdmLink.userSide("/dev/nmdm0B"));
        assertEquals(Optional.of(Path.of("/dev/nmdm-web.1B")), NmdmLink.userSide("/dev/nmdm-web.1A"),
                "any name between nmdm and the letter, as vm-bhyve uses");
        assertEquals(Optional.empty(), NmdmLink.userSide("/dev/nmdm0"));
        assertEquals(Optional.empty(), NmdmLink.userSide("/dev/nmdm0C"));
        assertEquals(Optional.empty(), NmdmLink.userSide("/dev/ttyS0A"));
    }

    @Test
    void aLinkIsMadeAndRemovedOnlyWhileItIsStillOurs() throws Exception {
        Path link = dir.resolve("nmdm0B");
        Path target = Files.writeString(dir.resolve("pts-5"), "");
        NmdmLink.Outcome o = NmdmLink.create(link, target.toString());
        assertEquals(link + " -> " + target, o.note());
        assertEquals(target, Files.readSymbolicLink(link));
        o.link().close();
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));

        NmdmLink first = NmdmLink.create(link, target.toString()).link();
        Path newer = Files.writeString(dir.resolve("pts-6"), "");
        NmdmLink.Outcome second = NmdmLink.create(link, newer.toString());
        assertEquals(link + " -> " + newer + " (replaced a link to " + target + ")", second.note(),
                "a live link is taken over, and said so");
        first.close();
        assertEquals(newer, Files.readSymbolicLink(link), "the older VM ending leaves the newer VM's link");
        second.link().close();
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aStaleLinkIsReplacedQuietly() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("nmdm0B"), dir.resolve("pts-that-went-away"));
        Path target = Files.writeString(dir.resolve("pts-7"), "");
        NmdmLink.Outcome o = NmdmLink.create(link, target.toString());
        assertEquals(link + " -> " + target, o.note());
        assertEquals(target, Files.readSymbolicLink(link));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary link left behind");
        }
    }

    @Test
    void somethingElseAtTheNameIsLeftAlone() throws Exception {
        Path file = Files.writeString(dir.resolve("nmdm0B"), "not ours");
        NmdmLink.Outcome o = NmdmLink.create(file, "/dev/pts/9");
        assertNull(o.link());
        assertEquals("/dev/pts/9 (" + file + " exists and is not a link: left alone)", o.note());
        assertEquals("not ours", Files.readString(file));
        NmdmLink.Outcome nowhere = NmdmLink.create(dir.resolve("no/such/dir/nmdm0B"), "/dev/pts/9");
        assertNull(nowhere.link());
        assertTrue(nowhere.note().startsWith("/dev/pts/9 (no " + dir.resolve("no/such/dir/nmdm0B") + " link: "),
                nowhere.note());
    }

    @Test
    void theLinkedPeerIsGivenToUucpAndDialoutWhereTheyExist() throws Exception {
        try (PseudoTerminal pty = PseudoTerminal.open()) {
            Path peer = Path.of(pty.peerPath());
            PosixFileAttributes before = Files.readAttributes(peer, PosixFileAttributes.class);
            NmdmLink.Outcome o = NmdmLink.create(dir.resolve("nmdm0B"), pty.peerPath());
            PosixFileAttributes after = Files.readAttributes(peer, PosixFileAttributes.class);
            var names = FileSystems.getDefault().getUserPrincipalLookupService();
            boolean root = "root".equals(System.getProperty("user.name"));
            try {
                var uucp = names.lookupPrincipalByName("uucp");
                assertEquals(root ? uucp : before.owner(), after.owner(), "Debian's cu opens the line as uucp");
            } catch (UserPrincipalNotFoundException e) {
                assertEquals(before.owner(), after.owner(), "no uucp user: owner unchanged");
            }
            try {
                var dialout = names.lookupPrincipalByGroupName("dialout");
                assertEquals(root ? dialout : before.group(), after.group());
                assertEquals(root ? "rw-rw----" : PosixFilePermissions.toString(before.permissions()),
                        PosixFilePermissions.toString(after.permissions()));
            } catch (UserPrincipalNotFoundException e) {
                assertEquals(before.group(), after.group(), "no dialout group: group unchanged");
            }
            o.link().close();
        }
    }
}
