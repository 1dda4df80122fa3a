package org.jbhyve.snapshot;

import java.lang.foreign.MemorySegment;

/**
 * A device whose guest-visible memory is too large for a state blob (fbuf's framebuffer): the
 * snapshot writes it in the RAM section beside guest RAM, sparse like RAM, and reads it back
 * into the same segment before {@link Snapshottable#restoreState} runs.
 */
public interface DeviceMemory {
    /** The memory to save and restore as it is; its size is fixed by the command line. */
    MemorySegment deviceMemory();
}
