package org.jbhyve.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.jbhyve.backend.chr.CharBackendException;
import org.jbhyve.backend.chr.StdioBackend;
import org.jbhyve.backend.net.NetBackendException;
import org.jbhyve.config.ConfigException;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.control.Claim;
import org.jbhyve.control.ControlException;
import org.jbhyve.control.Registry;
import org.jbhyve.kvm.KvmUnavailableException;
import org.jbhyve.machine.MachineException;
import org.jbhyve.machine.MachineShape;
import org.jbhyve.machine.MachineSpec;
import org.jbhyve.machine.VirtualMachine;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.sys.LibC;
import org.jbhyve.sys.SysException;
import org.jbhyve.vcpu.ExitStatus;
import sun.misc.Signal;

/**
 * {@code bhyve [options] vmname}: argv to a config tree, the tree to a VM, the VM's end to an
 * exit status (bhyve(8): 0 reset, 1 power-off, 2 halt, 3 triple fault, 4 error).
 *
 * <p>The VM takes its name in the registry first ({@link Registry#claim}: a name already
 * running is one line and status 4), picks up what bhyveload recorded for it ({@link
 * CreatedVm}), and answers bhyvectl on its control socket while it runs. When it ends the
 * entry goes, unless the VM was created by bhyveload or bhyvectl --create and not destroyed
 * (bhyvectl --destroy, or -D at power-off).
 *
 * <p>Every failure the user can cause ends as one line on stderr and status 4, never a stack
 * trace (set {@code JBHYVE_DEBUG=1} to see one). Signals are bhyve's: every SIGTERM presses the
 * ACPI power button and never stops the VM itself (status 1 when the guest powers off); only
 * when nothing can react to the button (no -A, or a guest that never enabled it) does SIGTERM
 * stop the VM, with status 4, as bhyve dies of it then. SIGINT stops at once with status 4 and
 * the terminal restored; a second stop signal forces the exit.
 */
public final class BhyveMain {
    private static final String PROGRAM = "bhyve";
    /** bhyve's main() calls exit(1) right after dumping the settings tree for config.dump. */
    static final int CONFIG_DUMP_STATUS = 1;

    private BhyveMain() {}

    /** What must hear the exit status before the JVM ends (a pre-started process's caller). */
    private static volatile IntConsumer beforeExit = status -> {};
    /** What must hear that the VM's vCPUs run (a pre-started process's caller). */
    private static volatile Runnable vmStarted = () -> {};

    public static void main(String[] args) {
        exit(runCommand(args));
    }

    /**
     * bhyve's whole command line as {@link #main} runs it, the exit status returned ({@link
     * AotTraining} runs it too, so that the start-up cache holds this path).
     */
    static int runCommand(String[] args) {
        // The system-call binding's downcall stub is generated while the command line is read
        // and the VM's name claimed (0.6 s of a 5 s start on a translated CPU; the two overlap on
        // a second core). Its first user waits for it, as for any class initialisation.
        Thread.ofPlatform().daemon(true).name("bindings").start(BhyveMain::linkBindings);
        return execute(args, System.out, System.err, Registry::open);
    }

    /** The "bindings" thread's work; a failure is the first user's to report, not a stack trace here. */
    private static void linkBindings() {
        try {
            LibC.link();
        } catch (LinkageError | RuntimeException e) {
            // the thread that needs the binding next fails with one line, as it would have alone
        }
    }

    /**
     * Ends the JVM with {@code status}, after output is flushed, terminals are restored and
     * {@link #beforeExit} heard it. It halts rather than calling System.exit: by now the VM is
     * closed and the registry hook removed, so the one shutdown hook left is the terminals' (run
     * here directly), and System.exit would first set up the JDK's System.Logger to log the exit
     * (its service look-up opens the jar: 7 ms of CPU at every end). ArchitectureTest keeps
     * shutdown hooks to the two places that this accounts for.
     */
    static void exit(int status) {
        System.out.flush();
        System.err.flush();
        StdioBackend.restoreAll();
        beforeExit.accept(status);
        Runtime.getRuntime().halt(status);
    }

    /** Sets who hears the exit status first ({@link PrestartMain} tells its caller). */
    static void beforeExit(IntConsumer listener) {
        beforeExit = listener;
    }

    /** Sets who hears that the VM runs ({@link PrestartMain} tells its caller). */
    static void whenVmStarted(Runnable listener) {
        vmStarted = listener;
    }

    /**
     * The whole command, as {@link #main} runs it but without exiting: output to {@code out}, the
     * one error line to {@code err}, and the exit status returned. Notices that devices and the
     * machine print while the VM starts still go to {@link System#err}.
     */
    static int execute(String[] args, PrintStream out, PrintStream err, Supplier<Registry> registry) {
        try {
            return run(args, out, registry);
        } catch (Throwable t) {
            return fail(t, err);
        } finally {
            StdioBackend.restoreAll();
        }
    }

    static int run(String[] args, PrintStream out) throws InterruptedException {
        return run(args, out, Registry::open);
    }

    /** {@link #run(String[], PrintStream)} with the VM registry to use (tests give a private one). */
    static int run(String[] args, PrintStream out, Supplier<Registry> registry) throws InterruptedException {
        ParsedCommand command = BhyveCommandLine.parse(args);
        // Tests of the type rather than a pattern switch, on this path and the registry's: a
        // switch's class is generated at every start, as the start-up cache keeps none (1.4 ms of CPU).
        if (command instanceof ParsedCommand.Text text) {
            out.print(text.text());
            return 0;
        }
        ParsedCommand.Run r = (ParsedCommand.Run) command;
        if (r.configDump()) {
            r.tree().dump().forEach(out::println);
            return CONFIG_DUMP_STATUS;
        }
        return runVm(r.tree(), registry);
    }

    private static int runVm(ConfigTree tree, Supplier<Registry> registry) throws InterruptedException {
        if (tree.has("restore")) {
            MachineShape.applyTo(tree); // -r: name, vCPUs and memory come from the snapshot, as in bhyve
        }
        String name = tree.get("name").orElseThrow(() -> new ConfigException("no VM name given"));
        try (Claim claim = registry.get().claim(name)) {
            // A JVM ended by a signal before the handlers below exist still gives the name back.
            Thread giveBack = new Thread(claim::close, "registry release");
            Runtime.getRuntime().addShutdownHook(giveBack);
            try {
                CreatedVm.apply(tree, claim.record());
                MachineSpec spec = MachineSpec.from(tree);
                try (VirtualMachine vm = new VirtualMachine(spec)) {
                    claim.serve(vm.control());
                    vm.whenStarted(vmStarted);
                    installSignalHandlers(vm);
                    VirtualMachine.Result result;
                    try {
                        result = vm.run();
                    } catch (MachineException e) {
                        throw LockHolders.name(e, registry.get());
                    }
                    release(claim, claim.destroyRequested() || vm.suspended()
                            || (spec.destroyOnPoweroff() && result.status() == ExitStatus.POWEROFF));
                    if (result.message() != null) {
                        System.err.println(PROGRAM + ": " + result.message());
                    }
                    return result.exitCode() & 0xFF;
                }
            } finally {
                removeHook(giveBack);
            }
        }
    }

    /** Gives the name back; a registry that cannot be updated is one line, not the VM's status. */
    private static void release(Claim claim, boolean destroy) {
        try {
            claim.release(destroy);
        } catch (ControlException e) {
            System.err.println(PROGRAM + ": " + e.getMessage());
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) anyway
        }
    }

    /**
     * bhyve's signals. SIGTERM presses the ACPI power button every time it comes (a supervisor
     * may send several while the guest shuts down); when the guest cannot see the button, the
     * first SIGTERM stops the VM with status 4 instead. SIGINT stops at once with status 4. A
     * stop signal after a stop was already asked for forces the exit.
     */
    private static void installSignalHandlers(VirtualMachine vm) {
        AtomicInteger stops = new AtomicInteger();
        AtomicBoolean buttonPressed = new AtomicBoolean();
        Signal.handle(new Signal("TERM"), sig -> {
            if (vm.pressPowerButton()) {
                buttonPressed.set(true);
                return;
            }
            if (buttonPressed.get()) {
                return; // the guest saw an earlier press and may have disarmed the button while shutting down
            }
            stop(vm, stops, "SIGTERM");
        });
        Signal.handle(new Signal("INT"), sig -> stop(vm, stops, "SIGINT"));
    }

    private static void stop(VirtualMachine vm, AtomicInteger stops, String signal) {
        if (stops.incrementAndGet() > 1) {
            StdioBackend.restoreAll();
            beforeExit.accept(ExitStatus.ERROR.code());
            Runtime.getRuntime().halt(ExitStatus.ERROR.code());
        }
        vm.requestExit(ExitStatus.ERROR, "stopped by " + signal);
    }

    /** One line on stderr, status 4. */
    static int fail(Throwable t) {
        return fail(t, System.err);
    }

    /** One line on {@code err}, status 4. */
    static int fail(Throwable t, PrintStream stream) {
        String message = switch (t) {
            case ConfigException e -> e.getMessage();
            case MachineException e -> e.getMessage();
            case BootException e -> e.getMessage();
            case KvmUnavailableException e -> e.getMessage();
            case CharBackendException e -> e.getMessage();
            case NetBackendException e -> e.getMessage();
            case ControlException e -> e.getMessage();
            case org.jbhyve.snapshot.SnapshotException e -> e.getMessage();
            case SysException e -> "system call failed: " + e.getMessage();
            default -> "internal error: " + t;
        };
        if (System.getenv("JBHYVE_DEBUG") != null) {
            t.printStackTrace();
        }
        PrintStream err = new PrintStream(stream, true, StandardCharsets.UTF_8);
        err.println(PROGRAM + ": " + message.replace('\n', ' '));
        return ExitStatus.ERROR.code();
    }
}
