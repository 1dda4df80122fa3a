package org.jbhyve.devices.virtio.rng;

import java.lang.foreign.MemorySegment;

/** Where random bytes come from (the machine hands in /dev/urandom; tests a fixed pattern). */
public interface EntropySource extends AutoCloseable {
    /** Fills {@code into} completely. */
    void fill(MemorySegment into);

    @Override
    default void close() {}

    /** java.security.SecureRandom (NativePRNG reads /dev/urandom on Linux). */
    static EntropySource secureRandom() {
        java.security.SecureRandom random = new java.security.SecureRandom();
        return into -> {
            byte[] b = new byte[(int) Math.min(into.byteSize(), 65536)];
            for (long at = 0; at < into.byteSize(); at += b.length) {
                int n = (int) Math.min(b.length, into.byteSize() - at);
                random.nextBytes(b);
                MemorySegment.copy(MemorySegment.ofArray(b), 0, into, at, n);
            }
        };
    }
}
