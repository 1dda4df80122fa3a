/*
 * Exception entry stubs and the ring-3 round trip.
 *
 * Each of the 32 exception stubs is 16 bytes long (the IDT setup in
 * runtime.c relies on that).  Vectors where the CPU does not push an error
 * code push a zero so that every frame looks the same; then the vector
 * number is pushed and the common code saves the registers and calls
 * trap_handler(frame).
 */

#define KERNEL_DS	0x10
#define USER_DS		0x18
#define USER_CS		0x20

	.text
	.code64
	.align	16
	.globl	isr_stubs
isr_stubs:
	.set	vec, 0
	.rept	32
	.align	16
	.if	!(vec == 8 || vec == 10 || vec == 11 || vec == 12 || vec == 13 || vec == 14 || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq	$0
	.endif
	pushq	$vec
	jmp	trap_common
	.set	vec, vec + 1
	.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	call	trap_handler
1:	cli
	hlt
	jmp	1b

/*
 * long run_user(long (*fn)(void *), void *arg)
 *
 * Saves the callee-saved registers and the stack pointer, then IRETQs to
 * ring 3 with RFLAGS.IOPL = 3 and IF = 0.
 */
	.globl	run_user
run_user:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, saved_kernel_rsp(%rip)
	pushq	$(USER_DS | 3)		/* SS */
	leaq	user_stack_top(%rip), %rax
	pushq	%rax			/* RSP */
	pushq	$0x3002			/* RFLAGS: IOPL 3, interrupts off */
	pushq	$(USER_CS | 3)		/* CS */
	leaq	user_trampoline(%rip), %rax
	pushq	%rax			/* RIP */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	iretq

/*
 * Runs in ring 3: call fn(arg), then trap back to ring 0 with the result
 * (trap_handler in runtime.c recognises the UD2 at user_exit_point).
 */
user_trampoline:
	call	*%rax
	movq	%rax, %rdi
	.globl	user_exit_point
user_exit_point:
	ud2				/* #UD from ring 3 here = "fn returned" */

/*
 * INT 0x80 gate (DPL 3).  The CPU has switched to TSS.RSP0; drop that frame,
 * return to run_user's caller on the saved kernel stack.
 */
	.globl	user_return_gate, resume_kernel
user_return_gate:
resume_kernel:				/* also called from trap_handler */
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movq	saved_kernel_rsp(%rip), %rsp
	movq	%rdi, %rax
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

	.bss
	.align	8
saved_kernel_rsp:
	.quad	0
