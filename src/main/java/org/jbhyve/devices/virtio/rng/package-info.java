/** virtio-rnd: host entropy behind a token bucket, so a guest cannot make the VMM spin. */
package org.jbhyve.devices.virtio.rng;
