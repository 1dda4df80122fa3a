/*
 * The guest runtime: include this and define
 *
 *     void guest_main(const struct boot_info *bi);
 *
 * The runtime enters it in 64-bit long mode, ring 0, interrupts off, with
 * the first 4 GiB (and RAM up to 64 GiB) identity mapped, COM1 initialised
 * and exception handlers installed.  Returning from guest_main powers off.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include "acpi.h"
#include "boot_info.h"
#include "cmdline.h"
#include "cpu.h"
#include "io.h"
#include "pci.h"
#include "power.h"
#include "printf.h"
#include "rtc.h"
#include "serial.h"
#include "string.h"
#include "user.h"

void guest_main(const struct boot_info *bi);

#endif
