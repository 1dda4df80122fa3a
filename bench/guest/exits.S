/*
 * The exit-path guest: ROUNDS times, writes COM1's scratch register (port 0x3FF) EXITS times,
 * each write a port-I/O exit the VMM handles in user space, and prints the TSC cycles that took
 * as "X <16 hex digits>\n" on COM1; then exits through the isa-debug-exit port (0xF4). The same
 * PVH image runs under jbhyve and QEMU, so cycles per exit compare the two VMMs' exit paths.
 */
        .set EXITS, 40000
        .set ROUNDS, 5
#include "pvh.h"
start:
        mov $0x90000, %esp      /* PVH leaves ESP undefined: a stack in low RAM for the calls */
        mov $ROUNDS, %ebp
round:
        rdtsc
        mov %eax, %esi          /* start, low */
        mov %edx, %edi          /* start, high */
        mov $EXITS, %ecx
        mov $0x3ff, %dx
        xor %eax, %eax
1:      out %al, %dx
        inc %eax
        dec %ecx
        jnz 1b
        rdtsc
        sub %esi, %eax
        sbb %edi, %edx
        mov %eax, %esi          /* elapsed, low */
        mov %edx, %edi          /* elapsed, high */
        mov $0x3f8, %dx
        mov $'X', %al
        out %al, %dx
        mov $' ', %al
        out %al, %dx
        mov %edi, %ebx
        call hex32
        mov %esi, %ebx
        call hex32
        mov $0x0a, %al
        out %al, %dx
        dec %ebp
        jnz round
        mov $0xf4, %dx
        xor %eax, %eax
        out %al, %dx
2:      hlt
        jmp 2b

/* Writes EBX as 8 hex digits to the port in DX; clobbers EAX, ECX. */
hex32:
        mov $8, %ecx
3:      rol $4, %ebx
        mov %ebx, %eax
        and $0xf, %eax
        cmp $10, %eax
        jb 4f
        add $('a' - 10 - '0'), %eax
4:      add $'0', %eax
        out %al, %dx
        dec %ecx
        jnz 3b
        ret
