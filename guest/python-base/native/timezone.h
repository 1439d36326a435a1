/* timezone.h: local time after TZ for wasi-libc (timezone.c). */
#ifndef SANDBOX_TIMEZONE_H
#define SANDBOX_TIMEZONE_H

/* Adds time.tzset to the time module; 0, or -1 with a Python exception. */
int timezone_install(void);

#endif
