/* cpu-clock.h: the guest's CPU-time clock (cpu-clock.c), driven by the shim's calls. */
#ifndef SANDBOX_CPU_CLOCK_H
#define SANDBOX_CPU_CLOCK_H

/* Around every eval/exec: the clock runs only in between. */
void cpu_clock_enter(void);
void cpu_clock_leave(void);
/* Back to zero: the snapshot's calls (the warm-up) are nobody's CPU time. */
void cpu_clock_reset(void);
/* Adds time.thread_time, time.thread_time_ns and the CPU-time clock ids to the time module;
 * 0, or -1 with a Python exception. */
int cpu_clock_install(void);

#endif
