package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;

/**
 * A VM fd: memory slots, the in-kernel interrupt controllers and PIT, interrupt injection
 * (IRQ lines, MSIs, irqfd), ioeventfd, and vCPU creation. Thread-safe (KVM serialises).
 */
public final class VmFd implements AutoCloseable {
    private static final int PIT_SPEAKER_DUMMY = 1;
    private static final int MEM_READONLY = 2;
    private static final int IOEVENTFD_DATAMATCH = 1;
    private static final int IOEVENTFD_PIO = 2;
    private static final int IOEVENTFD_DEASSIGN = 4;
    private static final int IRQFD_DEASSIGN = 1;

    private final Fd fd;
    private final int vcpuMmapSize;

    VmFd(Fd fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /**
     * KVM_SET_USER_MEMORY_REGION: maps {@code host} at guest-physical {@code guestAddress} in
     * {@code slot}. struct kvm_userspace_memory_region { u32 slot, flags; u64 guest_phys_addr,
     * memory_size, userspace_addr }.
     */
    public void setUserMemoryRegion(int slot, long guestAddress, MemorySegment host) {
        setRegion(slot, 0, guestAddress, host.byteSize(), host.address());
    }

    /**
     * Maps {@code host} read-only (KVM_MEM_READONLY, needs {@link Kvm#CAP_READONLY_MEM}): reads
     * and instruction fetches come from it, guest writes exit as MMIO writes. Boot ROMs use it.
     */
    public void setReadOnlyMemoryRegion(int slot, long guestAddress, MemorySegment host) {
        setRegion(slot, MEM_READONLY, guestAddress, host.byteSize(), host.address());
    }

    /** Deletes a slot (size 0): its guest range is no longer memory, accesses exit as MMIO. */
    public void removeMemoryRegion(int slot, long guestAddress) {
        setRegion(slot, 0, guestAddress, 0, 0);
    }

    private void setRegion(int slot, int flags, long guestAddress, long size, long userAddress) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(32, 8);
            r.set(JAVA_INT, 0, slot);
            r.set(JAVA_INT, 4, flags);
            r.set(JAVA_LONG, 8, guestAddress);
            r.set(JAVA_LONG, 16, size);
            r.set(JAVA_LONG, 24, userAddress);
            Posix.ioctl(fd, KvmIoctls.SET_USER_MEMORY_REGION, r);
        }
    }

    /** KVM_SET_TSS_ADDR: three pages Intel VT-x needs for real-mode emulation, outside RAM. */
    public void setTssAddress(long address) {
        Posix.ioctl(fd, KvmIoctls.SET_TSS_ADDR, address);
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page for the EPT identity map, outside RAM. */
    public void setIdentityMapAddress(long address) {
        try (Arena arena = Arena.ofConfined()) {
            Posix.ioctl(fd, KvmIoctls.SET_IDENTITY_MAP_ADDR, arena.allocateFrom(JAVA_LONG, address));
        }
    }

    /** KVM_CREATE_IRQCHIP: in-kernel PIC pair, IOAPIC and per-vCPU LAPICs (GSIs 0-23). */
    public void createIrqchip() {
        Posix.ioctl(fd, KvmIoctls.CREATE_IRQCHIP, 0);
    }

    /** KVM_CREATE_PIT2: in-kernel i8254 on ports 0x40-0x43 (speaker port 0x61 left to us). */
    public void createPit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = arena.allocate(64, 8);
            config.set(JAVA_INT, 0, PIT_SPEAKER_DUMMY);
            Posix.ioctl(fd, KvmIoctls.CREATE_PIT2, config);
        }
    }

    /** The chips of KVM_GET_IRQCHIP: the master and slave i8259 and the IOAPIC. */
    public static final int IRQCHIP_PIC_MASTER = 0, IRQCHIP_PIC_SLAVE = 1, IRQCHIP_IOAPIC = 2;

    /** KVM_GET_IRQCHIP: struct kvm_irqchip {u32 chip_id, pad; 512 bytes of the chip's state}. */
    public byte[] getIrqchip(int chip) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(520, 8);
            b.set(JAVA_INT, 0, chip);
            Posix.ioctl(fd, KvmIoctls.GET_IRQCHIP, b);
            return b.toArray(JAVA_BYTE);
        }
    }

    /** KVM_SET_IRQCHIP with a structure {@link #getIrqchip} returned (its chip id included). */
    public void setIrqchip(byte[] state) {
        copyIn(state, 520, KvmIoctls.SET_IRQCHIP);
    }

    /** Reads a VM-wide kernel structure (the PIT, the clock) as bytes. */
    public byte[] getState(KvmStateBlob blob) {
        if (!blob.vmWide()) {
            throw new IllegalArgumentException(blob + " belongs to a vCPU");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(blob.size(), 8);
            Posix.ioctl(fd, blob.get, b);
            return b.toArray(JAVA_BYTE);
        }
    }

    /** Writes a VM-wide kernel structure from bytes {@link #getState} returned. */
    public void setState(KvmStateBlob blob, byte[] bytes) {
        if (!blob.vmWide()) {
            throw new IllegalArgumentException(blob + " belongs to a vCPU");
        }
        copyIn(bytes, blob.size(), blob.set);
    }

    private void copyIn(byte[] bytes, int size, long request) {
        if (bytes.length != size) {
            throw new IllegalArgumentException(bytes.length + " bytes where " + size + " belong");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(size, 8);
            MemorySegment.copy(bytes, 0, b, JAVA_BYTE, 0, size);
            Posix.ioctl(fd, request, b);
        }
    }

    /** KVM_IRQ_LINE: sets the level of GSI {@code gsi} on the in-kernel PIC/IOAPIC. */
    public void setIrqLine(int gsi, boolean level) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = arena.allocate(8, 4);
            l.set(JAVA_INT, 0, gsi);
            l.set(JAVA_INT, 4, level ? 1 : 0);
            Posix.ioctl(fd, KvmIoctls.IRQ_LINE, l);
        }
    }

    /** KVM_SIGNAL_MSI: injects one MSI (address/data as the device would write them). */
    public void signalMsi(long address, int data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(32, 8);
            m.set(JAVA_INT, 0, (int) address);
            m.set(JAVA_INT, 4, (int) (address >>> 32));
            m.set(JAVA_INT, 8, data);
            Posix.ioctl(fd, KvmIoctls.SIGNAL_MSI, m);
        }
    }

    /** KVM_IRQFD: a write to {@code eventFd} raises {@code gsi} without a trip through user space. */
    public void attachIrqfd(Fd eventFd, int gsi, boolean attach) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(32, 8);
            s.set(JAVA_INT, 0, eventFd.number());
            s.set(JAVA_INT, 4, gsi);
            s.set(JAVA_INT, 8, attach ? 0 : IRQFD_DEASSIGN);
            Posix.ioctl(fd, KvmIoctls.IRQFD, s);
        }
    }

    /**
     * KVM_IOEVENTFD: a guest write of {@code length} bytes to {@code address} (a port when
     * {@code pio}) signals {@code eventFd} instead of exiting to user space; with
     * {@code dataMatch} non-null only writes of that value do.
     */
    public void attachIoeventfd(Fd eventFd, long address, int length, boolean pio, Long dataMatch, boolean attach) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64, 8);
            int flags = (pio ? IOEVENTFD_PIO : 0) | (dataMatch != null ? IOEVENTFD_DATAMATCH : 0)
                    | (attach ? 0 : IOEVENTFD_DEASSIGN);
            s.set(JAVA_LONG, 0, dataMatch == null ? 0 : dataMatch);
            s.set(JAVA_LONG, 8, address);
            s.set(JAVA_INT, 16, length);
            s.set(JAVA_INT, 20, eventFd.number());
            s.set(JAVA_INT, 24, flags);
            Posix.ioctl(fd, KvmIoctls.IOEVENTFD, s);
        }
    }

    /** One MSI entry of the GSI routing table: raising {@code gsi} sends this message. */
    public record MsiRoute(int gsi, long address, int data) {}

    /** GSIs 0-23 belong to the PIC/IOAPIC pins; MSI routes use numbers from here up. */
    public static final int FIRST_MSI_GSI = 24;
    private static final int IOAPIC_PINS = 24;
    private static final int ROUTE_IRQCHIP = 1;
    private static final int ROUTE_MSI = 2;
    private static final long ROUTE_ENTRY_SIZE = 48;

    /**
     * KVM_SET_GSI_ROUTING with the in-kernel irqchip's default entries plus {@code msis}.
     * The ioctl replaces the whole table, so the defaults the kernel installs at
     * KVM_CREATE_IRQCHIP are written again: GSI n (n &lt; 16) to PIC pin n and IOAPIC pin n,
     * GSIs 16-23 to IOAPIC pins 16-23 (virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c).
     *
     * <pre>
     * struct kvm_irq_routing { u32 nr; u32 flags; struct kvm_irq_routing_entry entries[nr]; }
     * struct kvm_irq_routing_entry {            // 48 bytes
     *     u32 gsi; u32 type; u32 flags; u32 pad;
     *     union { struct { u32 irqchip, pin; } irqchip;
     *             struct { u32 address_lo, address_hi, data, pad; } msi; u32 pad[8]; } u;
     * }
     * </pre>
     */
    public void setGsiRouting(java.util.List<MsiRoute> msis) {
        int n = 16 + IOAPIC_PINS + msis.size();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = arena.allocate(8 + ROUTE_ENTRY_SIZE * n, 8);
            t.set(JAVA_INT, 0, n);
            int i = 0;
            for (int gsi = 0; gsi < 16; gsi++) {
                irqchipEntry(t, i++, gsi, gsi < 8 ? IRQCHIP_PIC_MASTER : IRQCHIP_PIC_SLAVE, gsi % 8);
            }
            for (int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
                irqchipEntry(t, i++, gsi, IRQCHIP_IOAPIC, gsi);
            }
            for (MsiRoute m : msis) {
                if (m.gsi() < FIRST_MSI_GSI) {
                    throw new IllegalArgumentException("MSI route on irqchip GSI " + m.gsi());
                }
                long e = 8 + ROUTE_ENTRY_SIZE * i++;
                t.set(JAVA_INT, e, m.gsi());
                t.set(JAVA_INT, e + 4, ROUTE_MSI);
                t.set(JAVA_INT, e + 16, (int) m.address());
                t.set(JAVA_INT, e + 20, (int) (m.address() >>> 32));
                t.set(JAVA_INT, e + 24, m.data());
            }
            Posix.ioctl(fd, KvmIoctls.SET_GSI_ROUTING, t);
        }
    }

    private static void irqchipEntry(MemorySegment t, int i, int gsi, int chip, int pin) {
        long e = 8 + ROUTE_ENTRY_SIZE * i;
        t.set(JAVA_INT, e, gsi);
        t.set(JAVA_INT, e + 4, ROUTE_IRQCHIP);
        t.set(JAVA_INT, e + 16, chip);
        t.set(JAVA_INT, e + 20, pin);
    }

    /** KVM_ENABLE_CAP on the VM with up to four arguments. */
    public void enableCap(int capability, long... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(104, 8);
            s.set(JAVA_INT, 0, capability);
            for (int i = 0; i < args.length && i < 4; i++) {
                s.set(JAVA_LONG, 8 + 8L * i, args[i]);
            }
            Posix.ioctl(fd, KvmIoctls.ENABLE_CAP, s);
        }
    }

    /** KVM_CREATE_VCPU and the mmap of its kvm_run page. */
    public VcpuFd createVcpu(int id) {
        int vcpu = Posix.ioctl(fd, KvmIoctls.CREATE_VCPU, id);
        return new VcpuFd(id, new Fd(vcpu, "kvm-vcpu" + id), vcpuMmapSize);
    }

    @Override
    public void close() {
        fd.close();
    }
}
