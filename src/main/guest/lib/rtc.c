#include "rtc.h"
#include "io.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

static unsigned cmos_read(unsigned reg)
{
	outb(CMOS_INDEX, (uint8_t)reg);
	return inb(CMOS_DATA);
}

static unsigned bcd(unsigned v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

int rtc_read(struct rtc_time *t)
{
	unsigned a, b, hour, pm, century, tries = 0;

	/* Wait for the end of an update cycle (bounded: no RTC reads 0xFF). */
	while ((a = cmos_read(0x0a)) & 0x80) {
		if (a == 0xff || ++tries > 100000)
			return -1;
	}

	b = cmos_read(0x0b);
	t->second = cmos_read(0x00);
	t->minute = cmos_read(0x02);
	hour = cmos_read(0x04);
	t->day = cmos_read(0x07);
	t->month = cmos_read(0x08);
	t->year = cmos_read(0x09);
	century = cmos_read(0x32);

	pm = hour & 0x80;
	hour &= 0x7f;
	if (!(b & 0x04)) {		/* BCD mode */
		t->second = bcd(t->second);
		t->minute = bcd(t->minute);
		hour = bcd(hour);
		t->day = bcd(t->day);
		t->month = bcd(t->month);
		t->year = bcd(t->year);
		century = bcd(century);
	}
	if (!(b & 0x02)) {		/* 12-hour mode: 12 AM is 0:00 */
		if (hour == 12)
			hour = 0;
		if (pm)
			hour += 12;
	}
	t->hour = hour;
	if (century < 19 || century > 99)
		century = 20;
	t->year += century * 100;
	return 0;
}
