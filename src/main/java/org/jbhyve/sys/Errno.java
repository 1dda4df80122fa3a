package org.jbhyve.sys;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Linux errno values the VMM reacts to, and their C-library descriptions. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int EMSGSIZE = 90;
    public static final int ECONNREFUSED = 111;

    private static final LibraryFunction STRERROR = LibC.longFunction("strerror");

    private Errno() {}

    /** The C library's wording for {@code errno} ("No such file or directory"), what strerror(3) says. */
    public static String describe(int errno) {
        try {
            MemorySegment text = MemorySegment.ofAddress(STRERROR.call(errno));
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /**
     * The system's reason for a failed file operation of the JDK, in strerror(3)'s words. The JDK
     * words its file exceptions differently: NoSuchFileException and AccessDeniedException carry
     * only the path (the errno is implied by the class), other FileSystemExceptions the C
     * library's text as their reason; messages that name the path themselves use this so the
     * path appears once ({@code boot.kernel /x: No such file or directory}).
     */
    public static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> describe(ENOENT);
            case AccessDeniedException x -> describe(EACCES);
            case FileAlreadyExistsException x -> describe(EEXIST);
            case NotDirectoryException x -> describe(ENOTDIR);
            case FileSystemLoopException x -> describe(ELOOP);
            case FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
