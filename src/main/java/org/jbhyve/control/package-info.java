/**
 * The VM registry and the control socket: how a VM outlives and is reached from the commands
 * that touch it, as FreeBSD's {@code /dev/vmm} does for bhyve.
 *
 * <h2>Registry</h2>
 * Every VM has an entry {@code RUNDIR/vmm/NAME} ({@link org.jbhyve.control.RunDirectory}:
 * {@code $JBHYVE_RUNDIR}, else {@code /run/jbhyve} for root, else
 * {@code $XDG_RUNTIME_DIR/jbhyve}; the {@code vmm} directory is 0700). While bhyve runs the VM
 * the entry is its control socket (a Unix stream socket, mode 0600); while the VM is only
 * created (bhyveload, {@code bhyvectl --create}) it is the VM's {@link org.jbhyve.control.VmRecord}
 * as JSON. Stale sockets (their process died) are detected by connecting and checking the
 * recorded owner, and replaced ({@link org.jbhyve.control.Registry}). When the VM ends its
 * entry goes, unless it was created and not destroyed: then the record comes back.
 *
 * <h2>Protocol</h2>
 * One JSON object per line each way, UTF-8, lines at most 64 KiB; a connection carries any
 * number of request/answer pairs, in order. Every request has {@code "op"}; vCPU requests take
 * {@code "vcpu"} (default 0). Every answer has {@code "ok"}; a failed request answers
 * {@code {"ok": false, "errno": N, "error": "one line"}} with a Linux errno value (EINVAL 22 for
 * a bad vCPU, register or argument; EBUSY 16 when the VM is not running; ETIMEDOUT 110 when a
 * vCPU did not leave the guest within 5 s; ENOTSUP 95). 64-bit values that may use bit 63
 * (registers, descriptor fields, intinfo) are strings {@code "0x..."}; other numbers are JSON
 * numbers.
 *
 * <pre>
 * op                request fields                  answer fields
 * hello             -                               protocol (1), name, pid, state
 *                                                   (created|running|paused|stopping|ended), vcpus
 * get-registers     vcpu, names: [..]               values: {name: "0x.."}
 * set-registers     vcpu, values: {name: "0x.."}    -
 *                   names: rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags cr0 cr2 cr3 cr4 efer
 *                   dr0-dr3 dr6 dr7 cs ds es fs gs ss tr ldtr (selectors)
 * get-descriptor    vcpu, name (cs..ldtr, gdtr,     base, limit, access (VMX access rights)
 *                   idtr)
 * set-descriptor    vcpu, name, base, limit, access -
 * get-intinfo       vcpu                            pending, current (bhyve's VM_INTINFO encoding)
 * inject-nmi        vcpu                            -
 * get-x2apic-state  vcpu                            state (0 disabled, 1 enabled)
 * get-stats         vcpu                            stats: [{name, value}] (KVM's, then jbhyve.*)
 * get-memory        -                               lowmem, highmem, wired, mappings: [{gpa, length,
 *                                                   segment, offset, protection, wired}]
 * get-cpus          -                               active: [..], suspended: [..]
 * get-topology      -                               sockets, cores, threads, maxcpus
 * get-rtc-time      -                               seconds
 * set-rtc-time      seconds                         -
 * get-rtc-nvram     offset (0-127, not 12)          value
 * set-rtc-nvram     offset (14-127, not 50), value  -
 * force-reset       -                               - (bhyve then exits 0)
 * force-poweroff    -                               - (bhyve then exits 1)
 * destroy           -                               - (bhyve then exits 4; the entry goes)
 * </pre>
 * Example: {@code {"op":"get-registers","vcpu":0,"names":["rip"]}} is answered
 * {@code {"ok":true,"values":{"rip":"0xffffffff81000000"}}}. A client may also be a shell:
 * {@code echo '{"op":"hello"}' | socat - UNIX-CONNECT:/run/jbhyve/vmm/NAME}.
 *
 * <p>Threads: the control server accepts on one platform thread and serves each connection on
 * a platform thread of its own (at most 8 at once); requests reach vCPUs only through
 * {@link org.jbhyve.machine.MachineControl}, never on the vCPUs' fast path. The VM's side of the
 * socket is {@link org.jbhyve.sys.UnixStreamSocket} (plain system calls: the JDK's socket
 * channels cost a VM's start 40 ms of CPU); bhyvectl's side uses the JDK's channel.
 *
 * <p>Dependency: Jackson reads and writes the JSON: its streaming parser and generator
 * (jackson-core) and its tree nodes (jackson-databind's {@code JsonNode}), never its
 * {@code ObjectMapper}, whose data binding a VM's start would pay for (see {@code Json}).
 */
package org.jbhyve.control;
