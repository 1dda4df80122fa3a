/**
 * bhyve's {@code -G [w][addr:]port}: a GDB remote-protocol server for the guest (gdb manual,
 * "Remote Protocol"), in all-stop mode with vCPUs as threads.
 *
 * <h2>Layers</h2>
 * <ul>
 *   <li>Framing: {@link org.jbhyve.gdb.PacketReader} and {@link org.jbhyve.gdb.PacketWriter}
 *       ({@code $payload#cc}, acknowledgements, 0x03 interrupts, binary escapes; payloads
 *       capped at the advertised PacketSize).</li>
 *   <li>Session: {@link org.jbhyve.gdb.GdbSession} (run control, stop replies, detach) and
 *       {@link org.jbhyve.gdb.Commands}/{@link org.jbhyve.gdb.Queries} (registers, memory,
 *       breakpoints, threads, the target description). Every malformed packet gets an error
 *       reply; nothing a client sends can throw out of the server or resume the guest except
 *       {@code c}, {@code s}, {@code vCont}, {@code D} and {@code k}.</li>
 *   <li>Machine model: {@link org.jbhyve.gdb.RegisterFile} (gdb's amd64 registers over KVM's
 *       regs, sregs and FPU state), {@link org.jbhyve.gdb.TargetDescription},
 *       {@link org.jbhyve.gdb.PageWalker} (linear to physical for real mode, 32-bit without and
 *       with paging, PAE, 4- and 5-level paging), {@link org.jbhyve.gdb.Breakpoints} (DR0-DR3/DR7
 *       for software breakpoints while slots are free and for hardware ones; planted int3s
 *       with their original bytes).</li>
 *   <li>Target: {@link org.jbhyve.gdb.DebugTarget}, what the session drives: stop all, read and
 *       write a held vCPU, resume some (stepping some), guest RAM. {@link
 *       org.jbhyve.gdb.KvmDebugTarget} implements it over the vCPU loops; tests implement it
 *       with a simulated guest and run the real gdb against it.</li>
 * </ul>
 *
 * <h2>Software breakpoints: debug registers first, int3 as the fallback</h2>
 * gdb's {@code break} ({@code Z0}) asks only that execution stop at an address. Planting
 * {@code int3} needs KVM to see the guest's #BP (KVM_GUESTDBG_USE_SW_BP), and not every KVM
 * does: under a KVM that itself runs on QEMU's TCG (AMD SVM emulated), TCG checks the
 * software-interrupt intercept for {@code int3}, not the #BP exception intercept, so the guest
 * takes its own #BP and gdb never stops; where KVM emulates guest code its emulator has no
 * {@code int3} at all. Debug-register instruction breakpoints (KVM_GUESTDBG_USE_HW_BP) trap on
 * every KVM tried. So a {@code Z0} takes a free slot of DR0-DR3 as an instruction breakpoint
 * and nothing is written to guest memory; only when all four are in use is an int3 planted.
 * Hardware requests ({@code Z1}-{@code Z4}) are never refused because of software ones: a slot
 * held by a {@code Z0} is given up, that breakpoint planted instead (every Z packet is handled
 * with all vCPUs stopped). A hit on such a slot is reported exactly like an int3 of ours
 * ({@code swbreak:}, PC at the breakpoint: the instruction breakpoint traps before the
 * instruction, as the intercepted int3 leaves RIP on the 0xCC, so neither is adjusted). A vCPU
 * resumed from a reported instruction-breakpoint stop gets RFLAGS.RF, so it executes that
 * instruction instead of trapping again. A slot matches the linear address gdb gave; a plant,
 * every mapping of its physical byte. See {@link org.jbhyve.gdb.Breakpoints}.
 *
 * <p>For the planted fallback: KVM intercepts the #BP of a planted {@code int3}; where guest
 * code is emulated (the nested software KVM of the development machines runs ring 0 that way)
 * the emulator reports an emulation failure instead, RIP at the 0xCC. The vCPU loop hands both
 * to the target's hook, which holds the vCPU and asks the session: an int3 at a physical address
 * where the server planted one is that breakpoint being hit; anything else is what it was
 * without a debugger (a #BP for the guest, a fatal emulation failure). Reads through the server
 * show the original bytes.
 *
 * <h2>Place in the design</h2>
 * {@code machine → gdb → {vcpu, kvm, memory}}: the machine binds the server and builds its
 * target, because the server lives exactly as long as the VM (bound before the vCPUs start,
 * closed before guest RAM is released) and {@code w} must hold the vCPUs before their threads
 * start. The server never sees the VM object: it reaches vCPUs only through
 * {@link org.jbhyve.vcpu.VcpuLoop}'s {@code hold}/{@code release}/{@code submit} (the same
 * requests bhyvectl's register access uses) and memory through
 * {@link org.jbhyve.memory.GuestMemory}. It uses {@code kvm} for the register structs and the
 * guest-debug ioctl inside vCPU requests, never {@code sys}. (DESIGN.md drew gdb as a client
 * of machine; putting it below machine keeps the VM's life cycle in one place without a
 * start-up hook for the command line.)
 */
package org.jbhyve.gdb;
