package org.jbhyve.snapshot;

import java.lang.foreign.MemorySegment;

/** A stretch of guest-visible memory saved in the RAM section, by name ("ram@0x0", "fbuf@0:29:0"). */
public record MemoryRegion(String name, MemorySegment memory) {}
