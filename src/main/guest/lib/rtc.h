/*
 * CMOS real-time clock (MC146818), index port 0x70, data port 0x71.
 *
 * Registers: 0x00 seconds, 0x02 minutes, 0x04 hours, 0x07 day of month,
 * 0x08 month, 0x09 year (two digits), 0x32 century (commonly),
 * 0x0A status A (bit 7 = update in progress),
 * 0x0B status B (bit 2 = binary instead of BCD, bit 1 = 24-hour mode;
 * in 12-hour mode bit 7 of the hour register means PM).
 */
#ifndef GUEST_RTC_H
#define GUEST_RTC_H

struct rtc_time {
	unsigned year, month, day, hour, minute, second;
};

/* Returns 0 on success, -1 when no RTC answers. */
int rtc_read(struct rtc_time *t);

#endif
