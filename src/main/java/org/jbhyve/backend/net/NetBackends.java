package org.jbhyve.backend.net;

import java.lang.foreign.MemorySegment;
import java.util.OptionalInt;

/**
 * Maps a bhyve network backend value to a {@link NetBackend}:
 * <ul>
 *   <li>{@code tapN}, {@code vmnetN} or any other existing tap interface name: {@link TapBackend};</li>
 *   <li>{@code netgraph} (with {@code path=}, {@code peerhook=}...): FreeBSD-only, refused with
 *       the Linux alternative;</li>
 *   <li>{@code netmap:...} and {@code vale...}: refused likewise;</li>
 *   <li>no value at all: a NIC with no cable, as bhyve allows ({@link #none}).</li>
 * </ul>
 */
public final class NetBackends {
    private NetBackends() {}

    /** Opens {@code value} for {@code device} (the emulation name, used in messages). */
    public static NetBackend open(String device, String value, OptionalInt mtu) {
        if (value == null || value.isEmpty()) {
            return none(mtu);
        }
        if (value.startsWith("netgraph")) {
            throw new NetBackendException(device + ": " + value + ": netgraph is a FreeBSD-only network backend;"
                    + " on Linux use a tap interface (ip tuntap add tap0 mode tap) attached to a bridge");
        }
        if (value.startsWith("netmap:") || value.startsWith("vale")) {
            throw new NetBackendException(device + ": " + value + ": netmap/VALE backends are not supported on Linux;"
                    + " use a tap interface (ip tuntap add tap0 mode tap)");
        }
        return TapBackend.open(device, value, mtu);
    }

    /** A backend with nothing behind it: sent frames vanish, nothing is ever received. */
    public static NetBackend none(OptionalInt mtu) {
        return new NetBackend() {
            private volatile int header;

            @Override
            public String name() {
                return "none";
            }

            @Override
            public boolean send(MemorySegment... parts) {
                return true;
            }

            @Override
            public int peekLength() {
                return -1;
            }

            @Override
            public int receive(MemorySegment... buffers) {
                return -1;
            }

            @Override
            public boolean discard() {
                return false;
            }

            @Override
            public void setReceiveListener(Runnable listener) {}

            @Override
            public void setVnetHeader(int size) {
                header = size;
            }

            @Override
            public int vnetHeaderSize() {
                return header;
            }

            @Override
            public void setOffloads(boolean csum, boolean tso4, boolean tso6, boolean ecn, boolean ufo) {}

            @Override
            public OptionalInt mtu() {
                return mtu;
            }

            @Override
            public long droppedFrames() {
                return 0;
            }

            @Override
            public void close() {}
        };
    }
}
