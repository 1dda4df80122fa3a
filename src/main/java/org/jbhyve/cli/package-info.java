/**
 * The commands: {@code bhyve} (argv → settings tree ({@link org.jbhyve.cli.BhyveCommandLine},
 * picocli for bhyve's getopt syntax) → VM → exit status, {@link org.jbhyve.cli.BhyveMain}),
 * {@code bhyvectl} ({@link org.jbhyve.cli.BhyvectlMain}: FreeBSD's long options and output
 * formats over the VM registry and control socket of {@link org.jbhyve.control}) and
 * {@code bhyveload} ({@link org.jbhyve.cli.BhyveloadMain}: checks a kernel and creates the VM
 * in the registry). Every user-caused failure of bhyve ends as one line on stderr and status 4;
 * bhyvectl and bhyveload keep their FreeBSD statuses. SIGTERM presses the ACPI power button.
 *
 * <p>Cost noted: picocli's classes are Java 5 class files, which the JVM's class-data and AOT
 * caches cannot archive, so about 60 ms of every start is picocli; it stays because bhyve's
 * clustered-option syntax and exact error texts are well covered by it and its tests.
 */
package org.jbhyve.cli;
