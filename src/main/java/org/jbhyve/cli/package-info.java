/**
 * The {@code bhyve} command: argv → settings tree ({@link org.jbhyve.cli.BhyveCommandLine},
 * picocli for bhyve's getopt syntax) → VM → exit status ({@link org.jbhyve.cli.BhyveMain}).
 * Every user-caused failure ends as one line on stderr and status 4; SIGTERM presses the ACPI
 * power button when the guest can react to it.
 *
 * <p>Cost noted: picocli's classes are Java 5 class files, which the JVM's class-data and AOT
 * caches cannot archive, so about 60 ms of every start is picocli; it stays because bhyve's
 * clustered-option syntax and exact error texts are well covered by it and its tests.
 */
package org.jbhyve.cli;
