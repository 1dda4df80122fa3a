package org.jbhyve.backend.block;

/**
 * The block backend options of bhyve(8) (B1): {@code ro}, {@code nocache} (O_DIRECT),
 * {@code direct} (O_SYNC), {@code sectorsize=logical[/physical]} (0 = from the device or 512),
 * {@code nodelete} (no discard), the size of the worker pool, and jbhyve's {@code nolock}: do not
 * lock the image (see {@link BlockBackend}: a second VM on a locked image is refused).
 */
public record BlockOptions(String path, boolean readOnly, boolean noCache, boolean direct, int logicalSectorSize,
                           int physicalSectorSize, boolean noDelete, int workers, boolean noLock) {
    public static final int DEFAULT_WORKERS = 32;

    /** The options with the image locked (no {@code nolock}). */
    public BlockOptions(String path, boolean readOnly, boolean noCache, boolean direct, int logicalSectorSize,
                        int physicalSectorSize, boolean noDelete, int workers) {
        this(path, readOnly, noCache, direct, logicalSectorSize, physicalSectorSize, noDelete, workers, false);
    }

    /** These options with {@code nolock} set to {@code noLock}. */
    public BlockOptions withNoLock(boolean noLock) {
        return new BlockOptions(path, readOnly, noCache, direct, logicalSectorSize, physicalSectorSize, noDelete,
                workers, noLock);
    }

    public static BlockOptions of(String path) {
        return new BlockOptions(path, false, false, false, 0, 0, false, DEFAULT_WORKERS);
    }

    /** Parses "logical[/physical]" as bhyve does: powers of two, 512..65536, physical >= logical. */
    public static int[] parseSectorSize(String text) {
        String[] parts = text.split("/", -1);
        try {
            int logical = Integer.parseInt(parts[0].trim());
            int physical = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : logical;
            if (parts.length > 2 || !valid(logical) || !valid(physical) || physical < logical) {
                throw new NumberFormatException();
            }
            return new int[] {logical, physical};
        } catch (NumberFormatException e) {
            throw new BlockBackendException("invalid sectorsize '" + text
                    + "': want logical[/physical], powers of two from 512 to 65536");
        }
    }

    private static boolean valid(int size) {
        return size >= 512 && size <= 65536 && Integer.bitCount(size) == 1;
    }
}
