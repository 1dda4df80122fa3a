package org.jbhyve.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.backend.chr.CharBackendException;
import org.jbhyve.backend.chr.StdioBackend;
import org.jbhyve.backend.net.NetBackendException;
import org.jbhyve.config.ConfigException;
import org.jbhyve.kvm.KvmUnavailableException;
import org.jbhyve.machine.MachineException;
import org.jbhyve.machine.MachineSpec;
import org.jbhyve.machine.VirtualMachine;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.sys.SysException;
import org.jbhyve.vcpu.ExitStatus;
import sun.misc.Signal;

/**
 * {@code bhyve [options] vmname}: argv to a config tree, the tree to a VM, the VM's end to an
 * exit status (bhyve(8): 0 reset, 1 power-off, 2 halt, 3 triple fault, 4 error).
 *
 * <p>Every failure the user can cause ends as one line on stderr and status 4, never a stack
 * trace (set {@code JBHYVE_DEBUG=1} to see one). SIGTERM and SIGINT stop the VM cleanly with
 * status 4 and the terminal restored; a second one forces the exit.
 */
public final class BhyveMain {
    private static final String PROGRAM = "bhyve";

    private BhyveMain() {}

    public static void main(String[] args) {
        int status;
        try {
            status = run(args, System.out);
        } catch (Throwable t) {
            status = fail(t);
        } finally {
            StdioBackend.restoreAll();
        }
        System.out.flush();
        System.exit(status);
    }

    static int run(String[] args, PrintStream out) throws InterruptedException {
        ParsedCommand command = BhyveCommandLine.parse(args);
        switch (command) {
            case ParsedCommand.Help h -> {
                out.print(h.text());
                return 0;
            }
            case ParsedCommand.SlotHelp h -> {
                out.print(h.text());
                return 0;
            }
            case ParsedCommand.LpcHelp h -> {
                out.print(h.text());
                return 0;
            }
            case ParsedCommand.Run r -> {
                if (r.configDump()) {
                    r.tree().dump().forEach(out::println);
                    return 0;
                }
                return runVm(MachineSpec.from(r.tree()));
            }
        }
    }

    private static int runVm(MachineSpec spec) throws InterruptedException {
        try (VirtualMachine vm = new VirtualMachine(spec)) {
            installSignalHandlers(vm);
            VirtualMachine.Result result = vm.run();
            if (result.message() != null) {
                System.err.println(PROGRAM + ": " + result.message());
            }
            return result.exitCode() & 0xFF;
        }
    }

    /**
     * SIGTERM presses the ACPI power button (bhyve(8)): the guest shuts down and bhyve exits 1.
     * When nothing can react to the button (no -A, or the guest never enabled it), and for
     * SIGINT, the VM is stopped at once with status 4. A second signal forces the exit.
     */
    private static void installSignalHandlers(VirtualMachine vm) {
        AtomicInteger signals = new AtomicInteger();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), sig -> {
                if (signals.incrementAndGet() > 1) {
                    StdioBackend.restoreAll();
                    Runtime.getRuntime().halt(ExitStatus.ERROR.code());
                }
                if (sig.getName().equals("TERM") && vm.pressPowerButton()) {
                    return;
                }
                vm.requestExit(ExitStatus.ERROR, "stopped by SIG" + sig.getName());
            });
        }
    }

    /** One line on stderr, status 4. */
    static int fail(Throwable t) {
        String message = switch (t) {
            case ConfigException e -> e.getMessage();
            case MachineException e -> e.getMessage();
            case BootException e -> e.getMessage();
            case KvmUnavailableException e -> e.getMessage();
            case CharBackendException e -> e.getMessage();
            case NetBackendException e -> e.getMessage();
            case SysException e -> "system call failed: " + e.getMessage();
            default -> "internal error: " + t;
        };
        if (System.getenv("JBHYVE_DEBUG") != null) {
            t.printStackTrace();
        }
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        err.println(PROGRAM + ": " + message.replace('\n', ' '));
        return ExitStatus.ERROR.code();
    }
}
