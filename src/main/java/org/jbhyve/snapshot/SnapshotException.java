package org.jbhyve.snapshot;

/** A snapshot that cannot be written or used; the message is one line for the user. */
public final class SnapshotException extends RuntimeException {
    public SnapshotException(String message) {
        super(oneLine(message));
    }

    public SnapshotException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Names quoted from a damaged file may hold line breaks and other control characters: spaces instead. */
    private static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(message.length());
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            sb.append(Character.isISOControl(c) ? ' ' : c);
        }
        return sb.toString();
    }
}
