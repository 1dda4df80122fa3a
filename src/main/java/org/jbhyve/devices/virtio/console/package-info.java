/** virtio-console with MULTIPORT: each port a Unix socket the VMM creates and removes, one client at a time, bounded buffering while none is connected. */
package org.jbhyve.devices.virtio.console;
