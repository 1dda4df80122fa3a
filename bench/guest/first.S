/*
 * The smallest PVH guest: its first instructions write '!' to COM1 and exit through the
 * isa-debug-exit port (0xF4), so the time until a VMM's stdout shows '!' is its start-up time
 * to the first guest instruction (plus one port-I/O exit). With "spin" semantics it could not be
 * smaller: it touches no memory but its own code.
 */
#include "pvh.h"
start:
        mov $0x3f8, %dx
        mov $'!', %al
        out %al, %dx
        mov $0x0a, %al
        out %al, %dx
        mov $0xf4, %dx
        xor %eax, %eax
        out %al, %dx
1:      hlt
        jmp 1b
