/**
 * Digests of our own, for identifiers bhyve derives from names (see {@link org.jbhyve.digest.Md5}).
 * A leaf package: it depends on nothing else of the project, so device models, backends and the
 * machine's tables can all use it.
 */
package org.jbhyve.digest;
