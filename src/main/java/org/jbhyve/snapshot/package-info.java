/**
 * Snapshots (SPEC C14, H7): {@code bhyvectl --suspend=FILE} / {@code --checkpoint=FILE} write
 * one file, {@code bhyve -r FILE} builds the machine from the command line again and makes it the
 * saved one.
 *
 * <h2>What a device owes</h2>
 * Every device model implements {@link org.jbhyve.snapshot.Snapshottable}: a versioned blob of
 * its guest-visible state, written with {@link org.jbhyve.snapshot.StateWriter} and read back,
 * bounds-checked, with {@link org.jbhyve.snapshot.StateReader}; {@code quiesce} brings its
 * threads to rest first. Host resources (image files, taps, sockets, terminals) are never in a
 * snapshot: they come from the command line given to {@code -r}, and a restore checks that they
 * still fit (a disk of another size is refused with one line). A test fails for a device class
 * without a state, and each device's tests check that state → bytes → state is the identity and
 * that damaged blobs are refused with one line.
 *
 * <h2>The file</h2>
 * <pre>
 * 0       header (64 bytes): "JBHYVSNP", format version 1, where the two sections are, the
 *         CRC32C of the state section, the length of the memory index, a CRC32C of the header
 * 64      state section: named records, each with its own layout version and blob, in order:
 *           "machine"      name, sockets/cores/threads, memory size, the names of the parts below
 *           "vcpu/N"       KVM's registers, XSAVE, XCR0, special registers, LAPIC, MSRs, events,
 *                          MP state, debug registers (raw kernel structures)
 *           "kvm/chips"    both i8259s, the IOAPIC, the i8254 and kvmclock
 *           device names   "virtio-blk@0:2:0", "lpc@0:31:0", "com1", "rtc", "hpet", ...
 * 4 KiB   memory section: an index (per region: name, size, CRC32C of its data, runs of
 *         non-zero pages as offset and length), then at the next 4 KiB boundary the runs' bytes.
 *         Regions: "ram@0x0", "ram@0x100000000" and device memory ("fbuf@0:29:0/memory").
 * </pre>
 * Little-endian throughout. Pages that are all zeros (never touched, or cleared) are not
 * written, so a snapshot is as large as the memory the guest uses. Memory goes from guest RAM to
 * the file and back without passing through the Java heap: saving writes it with O_DIRECT where
 * the file system allows (no copy into the page cache; the checksums are computed on a second
 * thread meanwhile), and {@code bhyve -r} maps the file's pages copy-on-write into guest RAM
 * instead of reading them, after one checksum pass over the file; a page is loaded when the
 * guest first touches it, and copied when it first writes it. {@code bench/snapshot} compares
 * both directions with dd of the same amount of data.
 *
 * <h2>Safety</h2>
 * The file is created mode 0600 under a temporary name beside the target, flushed, and renamed
 * into place when complete. Opening checks the header, the state checksum and the memory index
 * against the file's length; memory checksums are checked as it is read; every record is checked
 * by its part. Any failure is one line and {@code bhyve -r} exits 4 before a vCPU runs: a guest
 * is never resumed from a partial or damaged file.
 *
 * <h2>Time</h2>
 * The guest's TSC (an MSR) and kvmclock are restored to their saved values, the PM timer and the
 * HPET counter continue from theirs: time does not pass for the guest while it is saved, and it
 * never runs backwards. The RTC keeps its offset from the host's clock, so it shows the real
 * date after a restore, as a battery-backed clock would.
 */
package org.jbhyve.snapshot;
