/**
 * The commands: {@code bhyve} (argv → settings tree ({@link org.jbhyve.cli.BhyveCommandLine},
 * with {@link org.jbhyve.cli.Getopt}, getopt(3) as bhyve's libc has it) → VM → exit status, {@link org.jbhyve.cli.BhyveMain}),
 * {@code bhyvectl} ({@link org.jbhyve.cli.BhyvectlMain}: FreeBSD's long options and output
 * formats over the VM registry and control socket of {@link org.jbhyve.control}) and
 * {@code bhyveload} ({@link org.jbhyve.cli.BhyveloadMain}: checks a kernel and creates the VM
 * in the registry). Every user-caused failure of bhyve ends as one line on stderr and status 4;
 * bhyvectl and bhyveload keep their FreeBSD statuses. SIGTERM presses the ACPI power button.
 *
 * <p>{@link org.jbhyve.cli.PrestartMain} is bhyve started ahead of its command line ({@code
 * bin/bhyve-prestart}): it warms up ({@link org.jbhyve.cli.Warmup}) and waits for a {@link
 * org.jbhyve.cli.Handoff} from {@code bin/bhyve}, then runs it as {@code BhyveMain} would, in the
 * caller's directory with the caller's descriptors, and reports the status to the caller.
 *
 * <p>Why a getopt of our own rather than a library: bhyve's syntax is exactly getopt(3) (short
 * options, clusters, attached values, options stop at the VM name), which takes sixty lines,
 * while picocli, used before, cost about 60 ms of every start (its Java 5 class files cannot go
 * into the JVM's class-data and AOT caches) and worded its errors unlike getopt.
 */
package org.jbhyve.cli;
