/**
 * Logging for the VMM's parts: {@code java.util.logging} underneath, with each logger made when a
 * part first has something to say ({@link org.jbhyve.log.LazyLogger}), so a VM that never logs
 * never starts the logging framework. Depends on nothing else of jbhyve; any package may use it.
 */
package org.jbhyve.log;
