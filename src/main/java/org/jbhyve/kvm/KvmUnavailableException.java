package org.jbhyve.kvm;

/** KVM cannot be used on this host; the message is one line for the user. */
public final class KvmUnavailableException extends RuntimeException {
    public KvmUnavailableException(String message) {
        super(message);
    }
}
