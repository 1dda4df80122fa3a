package org.jbhyve.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.jbhyve.gdb.PacketReader.Frame;
import org.jbhyve.kvm.Registers;

/**
 * One gdb connection in all-stop mode (gdb manual, "Remote Protocol"). The guest is either
 * stopped (every vCPU held: gdb's packets are answered one by one) or running (after
 * {@code c}, {@code s} or {@code vCont}: the next reply is a stop reply, sent when a vCPU traps,
 * gdb interrupts with 0x03 or {@code vCtrlC}, or the VM ends with {@code W}). When one vCPU
 * stops, every vCPU is stopped before the stop is reported.
 *
 * <p>Stop replies: {@code T05thread:N;swbreak:;} (a software breakpoint: an int3 of ours or a
 * debug-register slot backing one, see {@link Breakpoints}), {@code hwbreak:;},
 * {@code watch:ADDR;}/{@code rwatch:}/{@code awatch:} (a debug register), {@code T05thread:N;}
 * (a single step), {@code T02thread:N;} (interrupted), {@code Wxx} (the VM ended with status xx).
 *
 * <p>Threads: a reader thread turns the socket into frames, acknowledging packets (until
 * {@code QStartNoAckMode}); vCPU threads report traps ({@link StopListener}); all of it goes
 * through one queue to the thread running {@link #run}, which alone drives the target. A stop
 * that arrives while the guest is already stopped (two vCPUs trapping at once) is dropped: the
 * vCPU stands at the breakpoint again, or has completed a step gdb will ask for again.
 *
 * <p>Resuming from a debug-register instruction breakpoint: such a breakpoint traps before its
 * instruction, so a vCPU let go at it would trap again at once (an int3 does too, but gdb
 * steps over its own breakpoints by removing them; a client that continues without doing so
 * would not get past this one). A vCPU resumed from where its instruction-breakpoint stop was
 * reported gets RFLAGS.RF, which makes the processor ignore instruction breakpoints for one
 * instruction and then clears itself (SDM vol. 3, 18.3.1.1); KVM enters the guest with the
 * guest's RFLAGS, so this holds under every KVM. A vCPU that reached a breakpoint without its
 * stop being reported gets no RF, so it traps there again and is reported then.
 *
 * <p>When the connection ends (detach, disconnect), every breakpoint is removed, guest
 * debugging turned off and all vCPUs resumed.
 */
final class GdbSession implements StopListener {
    static final int SIGINT = 2, SIGTRAP = 5;
    /** RFLAGS.RF, the resume flag: instruction breakpoints are not taken on the next instruction. */
    static final long RFLAGS_RF = 1L << 16;

    /**
     * A stop to report: the vCPU, the signal, and the reason field ("swbreak:;", "watch:1000;"...);
     * whether the vCPU stopped on one of the debugger's instruction breakpoints (a debug
     * register, R/W 00) and the linear pc it stands at then.
     */
    record Stop(int vcpu, int signal, String reason, boolean onInstructionBreakpoint, long pc) {
        Stop(int vcpu, int signal, String reason) {
            this(vcpu, signal, reason, false, 0);
        }
    }

    private sealed interface Event {
        record Client(Frame frame) implements Event {}

        record Stopped(Stop stop) implements Event {}

        record Ended(int status) implements Event {}
    }

    private final DebugTarget target;
    private final Breakpoints breakpoints;
    private final Commands commands;
    private final PacketReader reader;
    private final PacketWriter writer;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean noAck;
    private boolean running;
    private boolean swbreak;
    private boolean hwbreak;
    private Stop lastStop = new Stop(0, SIGTRAP, "");
    /** vCPU -> the linear pc of the instruction breakpoint it was reported stopped on. */
    private final Map<Integer, Long> onInstructionBreakpoint = new TreeMap<>();

    GdbSession(DebugTarget target, InputStream in, OutputStream out) {
        this.target = target;
        this.breakpoints = new Breakpoints(target.memory());
        this.commands = new Commands(target, breakpoints);
        this.reader = new PacketReader(in);
        this.writer = new PacketWriter(out);
    }

    /**
     * Serves the connection until gdb detaches, kills the VM or disconnects, or the VM ends.
     * Every vCPU must be held when it starts.
     */
    void run() throws InterruptedException {
        target.listen(this);
        Thread readerThread = Thread.ofPlatform().name("gdb reader").daemon(true).start(this::readLoop);
        boolean release = true;
        try {
            while (true) {
                Event e = events.take();
                if (e instanceof Event.Ended ended) {
                    release = false;
                    if (running) {
                        writer.send(String.format("W%02x", ended.status() & 0xFF));
                    }
                    return;
                }
                if (!handle(e)) {
                    release = !(e instanceof Event.Client c && c.frame() instanceof Frame.Packet p
                            && (p.text().equals("k") || p.text().startsWith("vKill")));
                    return;
                }
            }
        } catch (IOException e) {
            // the connection is gone: let the guest go on
        } finally {
            if (release) {
                release();
            } else {
                target.listen(null);
            }
            readerThread.interrupt();
        }
    }

    @Override
    public boolean trapped(int vcpu, Trap trap) {
        Stop stop = StopDecoder.decode(vcpu, trap, target.memory(), breakpoints);
        if (stop == null) {
            return false;
        }
        events.add(new Event.Stopped(stop));
        return true;
    }

    @Override
    public void ended(int status) {
        events.add(new Event.Ended(status));
    }

    /** Handles one event; false ends the session. */
    private boolean handle(Event e) throws IOException {
        switch (e) {
            case Event.Stopped s -> {
                if (running) {
                    stopEverything(s.stop());
                }
                return true;
            }
            case Event.Ended ended -> {
                return false;
            }
            case Event.Client c -> {
                return switch (c.frame()) {
                    case Frame.Packet p -> packet(p.text());
                    case Frame.Overlong o -> {
                        if (!running) {
                            writer.send(Commands.INVALID);
                        }
                        yield true;
                    }
                    case Frame.Interrupt i -> {
                        if (running) {
                            stopEverything(new Stop(commands.current(), SIGINT, ""));
                        }
                        yield true;
                    }
                    default -> false; // end of the connection
                };
            }
        }
    }

    private void readLoop() {
        try {
            while (true) {
                Frame f = reader.next();
                switch (f) {
                    case Frame.Packet p -> acknowledge(true);
                    case Frame.Overlong o -> acknowledge(true);
                    case Frame.Corrupt c -> acknowledge(false);
                    case Frame.Nak n -> writer.resend();
                    default -> { }
                }
                if (f instanceof Frame.Packet || f instanceof Frame.Overlong || f instanceof Frame.Interrupt
                        || f instanceof Frame.Eof) {
                    events.add(new Event.Client(f));
                }
                if (f instanceof Frame.Eof) {
                    return;
                }
            }
        } catch (IOException e) {
            events.add(new Event.Client(new Frame.Eof()));
        }
    }

    private void acknowledge(boolean good) throws IOException {
        if (!noAck) {
            if (good) {
                writer.ack();
            } else {
                writer.nak();
            }
        }
    }

    private boolean packet(String p) throws IOException {
        if (running) {
            if (p.equals("vCtrlC")) {
                writer.send("OK");
                stopEverything(new Stop(commands.current(), SIGINT, ""));
            } else {
                writer.send(Commands.INVALID); // only an interrupt is expected while the guest runs
            }
            return true;
        }
        if (p.equals("?")) {
            writer.send(reply(lastStop));
        } else if (p.equals("QStartNoAckMode")) {
            noAck = true;
            writer.send("OK");
        } else if (p.startsWith("qSupported")) {
            swbreak = p.contains("swbreak+");
            hwbreak = p.contains("hwbreak+");
            writer.send(commands.answer(p));
        } else if (p.equals("D") || p.startsWith("D;")) {
            writer.send("OK");
            return false;
        } else if (p.equals("k") || p.startsWith("vKill")) {
            if (!p.equals("k")) {
                writer.send("OK");
            }
            target.kill();
            return false;
        } else if (p.equals("vCtrlC")) {
            writer.send("OK");
        } else if (p.startsWith("vCont;")) {
            Map<Integer, Boolean> run = ResumeRequest.vCont(p, commands);
            if (run == null) {
                writer.send(Commands.INVALID);
            } else {
                resume(run);
            }
        } else if (!p.isEmpty() && "cCsS".indexOf(p.charAt(0)) >= 0) {
            legacyResume(p);
        } else {
            writer.send(commands.answer(p));
        }
        return true;
    }

    /** {@code c[addr]}, {@code s[addr]}, {@code C sig[;addr]}, {@code S sig[;addr]}. */
    private void legacyResume(String p) throws IOException {
        boolean step = p.charAt(0) == 's' || p.charAt(0) == 'S';
        String arg = p.substring(1);
        if (Character.isUpperCase(p.charAt(0))) {
            int semi = arg.indexOf(';');
            arg = semi < 0 ? "" : arg.substring(semi + 1); // the signal means nothing to a VM
        }
        int vcpu = commands.resumeThread();
        try {
            if (!arg.isEmpty()) {
                long address = Hex.parseLong(arg);
                commands.state(vcpu).regs.set(Registers.RIP, address);
                commands.commit(vcpu, java.util.EnumSet.of(CpuState.Part.GENERAL));
            }
        } catch (Hex.BadPacketException e) {
            writer.send(Commands.INVALID);
            return;
        } catch (DebugTarget.TargetException e) {
            writer.send(Commands.TARGET);
            return;
        }
        Map<Integer, Boolean> run = new TreeMap<>();
        if (step) {
            run.put(vcpu, true);
        } else {
            for (int v = 0; v < target.vcpuCount(); v++) {
                run.put(v, false);
            }
        }
        resume(run);
    }

    private void resume(Map<Integer, Boolean> run) {
        for (int vcpu : run.keySet()) {
            Long pc = onInstructionBreakpoint.remove(vcpu);
            if (pc != null) {
                stepPastInstructionBreakpoint(vcpu, pc);
            }
        }
        commands.forget();
        running = true;
        try {
            target.resume(breakpoints.guestDebug(), run);
        } catch (DebugTarget.TargetException e) {
            // the VM is ending: its end is reported as the stop reply
        }
    }

    /** Sets RFLAGS.RF on a vCPU that still stands on the instruction breakpoint it stopped on. */
    private void stepPastInstructionBreakpoint(int vcpu, long pc) {
        try {
            CpuState state = commands.state(vcpu);
            if (state.linearPc() == pc) {
                state.regs.set(Registers.RFLAGS, state.regs.get(Registers.RFLAGS) | RFLAGS_RF);
                commands.commit(vcpu, java.util.EnumSet.of(CpuState.Part.GENERAL));
            }
        } catch (DebugTarget.TargetException e) {
            // the VM is ending
        }
    }

    private void stopEverything(Stop stop) throws IOException {
        try {
            target.stopAll();
        } catch (DebugTarget.TargetException e) {
            // a vCPU that has ended is stopped too
        }
        running = false;
        lastStop = stop;
        if (stop.onInstructionBreakpoint()) {
            onInstructionBreakpoint.put(stop.vcpu(), stop.pc());
        }
        commands.stoppedAt(stop.vcpu());
        writer.send(reply(stop));
    }

    private String reply(Stop s) {
        String reason = s.reason();
        if ((reason.startsWith("swbreak") && !swbreak) || (reason.startsWith("hwbreak") && !hwbreak)) {
            reason = "";
        }
        return String.format("T%02xthread:%x;%s", s.signal(), s.vcpu() + 1, reason);
    }

    /**
     * The end of the connection: the guest stopped (if it ran), breakpoints out, traps no
     * longer ours, debugging off, every vCPU running. In this order, so no vCPU meets a planted
     * int3 without a debugger to claim it.
     */
    private void release() {
        try {
            if (running) {
                target.stopAll();
            }
            breakpoints.clear();
            target.listen(null);
            Map<Integer, Boolean> all = new TreeMap<>();
            for (int v = 0; v < target.vcpuCount(); v++) {
                all.put(v, false);
            }
            target.resume(GuestDebug.OFF, all);
        } catch (DebugTarget.TargetException | IllegalStateException e) {
            // the VM has ended meanwhile
        } finally {
            target.listen(null);
        }
    }
}
