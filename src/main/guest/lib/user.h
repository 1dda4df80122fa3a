/*
 * Running code in ring 3.
 *
 * run_user() builds an interrupt-return frame (user code/stack selectors
 * with RPL 3, RFLAGS with IOPL = 3 and interrupts off) and IRETQs to a
 * trampoline that calls fn(arg) on the user stack.
 *
 * Port I/O in ring 3 is allowed twice over: by IOPL = 3 and by the TSS I/O
 * permission bitmap, which permits every port.  The bitmap matters on
 * hypervisors that run ring 3 with their own RFLAGS.IOPL (the nested KVM
 * used for development does: ring-3 code sees IOPL 0 and IF 1).
 *
 * When fn returns, the trampoline executes UD2 at a known address.  The
 * #UD exception switches to the ring-0 stack from TSS.RSP0; the handler
 * recognises the address and resumes run_user's caller with fn's result.
 * (An exception is used instead of INT 0x80 because some ring-0 emulators
 * reject software interrupts from ring 3; an INT 0x80 gate with DPL 3 that
 * does the same is installed as well.)
 *
 * All memory is identity mapped with the user bit set, so ring-3 code can
 * touch everything.  Not reentrant: one ring-3 call at a time.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

long run_user(long (*fn)(void *), void *arg);

#endif
