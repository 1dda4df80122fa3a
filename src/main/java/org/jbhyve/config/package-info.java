/**
 * The bhyve_config(5) settings tree and the legacy option parsers that feed it.
 *
 * <p>As in bhyve since FreeBSD 13, configuration is data first: {@code -s},
 * {@code -l}, the single-letter options, {@code -o key=value} and {@code -k file}
 * only write keys into a {@link org.jbhyve.config.ConfigTree}; the machine is
 * then built by walking the tree. That makes {@code -o config.dump=1} and golden
 * tests cheap, and lets tools write a whole VM as a {@code -k} file.
 *
 * <p>Where jbhyve departs from bhyve it does so to fail instead of guessing:
 * bhyve warns about an unknown {@code %(ref)}, a malformed number or an
 * out-of-range slot field and carries on (C's {@code sscanf} reads {@code "2x"}
 * as 2); here each is a {@link org.jbhyve.config.ConfigException} with one line
 * quoting the offending text. Key names and the shape of the tree are bhyve's,
 * so a {@code -k} file written for bhyve reads the same here.
 *
 * <p>Defaults are not written into the tree: a key absent from the tree means
 * "bhyve's default", applied by whoever reads the key.
 */
package org.jbhyve.config;
