/*
 * Running code in ring 3.
 *
 * run_user() builds an interrupt-return frame (user code/stack selectors
 * with RPL 3, RFLAGS with IOPL = 3 so IN/OUT work in ring 3, interrupts
 * still off) and IRETQs to a trampoline that calls fn(arg) on the user
 * stack.  When fn returns, the trampoline executes INT 0x80 through an IDT
 * gate with DPL 3; the CPU switches to the ring-0 stack from TSS.RSP0 and
 * the handler resumes run_user's caller with fn's result.
 *
 * All memory is identity mapped with the user bit set, so ring-3 code can
 * touch everything.  Not reentrant: one ring-3 call at a time.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

long run_user(long (*fn)(void *), void *arg);

#endif
