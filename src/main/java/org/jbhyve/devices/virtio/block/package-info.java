/** virtio-blk (bhyve's {@code virtio-blk}): request parsing, config layout and completion over a {@link org.jbhyve.backend.block.BlockBackend}. */
package org.jbhyve.devices.virtio.block;
