/*
 * cpu-clock.c: a process CPU-time clock for a guest that has none.
 *
 * WASI has no CPU-time clock. wasi-libc's emulation (-lwasi-emulated-process-clocks) answers
 * clock() with the monotonic clock minus its value at start-up, and start-up happened inside
 * Wizer: time.process_time() then counted the host's time since the guest was built, idle time
 * included. The CPU clock of a process that only runs during calls is the time spent inside
 * them, so that is what this file counts:
 *
 *   - it runs from cpu_clock_enter() to cpu_clock_leave(), which the shim calls around every
 *     eval/exec; a sandbox idle between calls uses no CPU and its clock stands still;
 *   - time blocked in poll_oneoff (time.sleep, an event loop waiting for a timer, select) is left
 *     out, as an OS leaves a sleeping process's CPU clock alone;
 *   - every other moment of a call counts: the host cannot tell this thread's CPU time from the
 *     wall clock, so time the host spends descheduled or in its own imports counts too.
 *
 * It answers clock() (time.process_time; also getrusage, whose emulation calls __clock, defined
 * here, so the emulation's own clock.o is never linked), times() (os.times), clock_gettime() and
 * clock_getres() for the two CPU-time clock ids below, and time.thread_time() (there is one
 * thread). The linker wraps clock_gettime, clock_getres and __wasi_poll_oneoff (--wrap), see
 * scripts/build.mjs.
 *
 * The counters live in linear memory, so they travel with a sandbox's snapshot or fork.
 */

#define _WASI_EMULATED_PROCESS_CLOCKS 1 /* declares clock() without a deprecation warning */
#include <Python.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include "cpu-clock.h"

/* What the CPU-time clock ids point at: wasi-libc's clock ids are addresses of constants, and
 * it defines none for CPU time. Only the addresses matter; the contents are never read. */
static const char process_cputime_clock_id;
static const char thread_cputime_clock_id;
#define SANDBOX_CLOCK_PROCESS_CPUTIME_ID ((clockid_t)(const void *)&process_cputime_clock_id)
#define SANDBOX_CLOCK_THREAD_CPUTIME_ID ((clockid_t)(const void *)&thread_cputime_clock_id)

static uint64_t spent_before_call_ns; /* CPU time of every finished call */
static bool in_call;
static uint64_t call_started_ns;
static uint64_t blocked_in_call_ns; /* time the current call spent in poll_oneoff */

static uint64_t monotonic_ns(void) {
    __wasi_timestamp_t now = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &now) != 0) return call_started_ns;
    return now;
}

static uint64_t cpu_ns(void) {
    if (!in_call) return spent_before_call_ns;
    uint64_t elapsed = monotonic_ns() - call_started_ns;
    return spent_before_call_ns + (elapsed > blocked_in_call_ns ? elapsed - blocked_in_call_ns : 0);
}

void cpu_clock_enter(void) {
    call_started_ns = monotonic_ns();
    blocked_in_call_ns = 0;
    in_call = true;
}

void cpu_clock_leave(void) {
    spent_before_call_ns = cpu_ns();
    in_call = false;
}

void cpu_clock_reset(void) {
    spent_before_call_ns = 0;
    in_call = false;
}

/* ---- C library ------------------------------------------------------------------------------ */

clock_t __clock(void) { return (clock_t)cpu_ns(); } /* CLOCKS_PER_SEC is 10^9 in wasi-libc */
clock_t clock(void) { return __clock(); }

/* In clock ticks (sysconf(_SC_CLK_TCK)), as os.times() reads them: the emulation library's
 * version returned nanoseconds. */
clock_t times(struct tms *buffer) {
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    uint64_t ns_per_tick = 1000000000u / (uint64_t)(ticks_per_second > 0 ? ticks_per_second : 100);
    buffer->tms_utime = (clock_t)(cpu_ns() / ns_per_tick);
    buffer->tms_stime = 0;
    buffer->tms_cutime = 0;
    buffer->tms_cstime = 0;
    return (clock_t)(monotonic_ns() / ns_per_tick);
}

int __real_clock_gettime(clockid_t clock_id, struct timespec *ts);
int __real_clock_getres(clockid_t clock_id, struct timespec *res);
__wasi_errno_t __real___wasi_poll_oneoff(const __wasi_subscription_t *in, __wasi_event_t *out,
                                         __wasi_size_t nsubscriptions, __wasi_size_t *nevents);

static bool is_cpu_clock(clockid_t clock_id) {
    return clock_id == SANDBOX_CLOCK_PROCESS_CPUTIME_ID || clock_id == SANDBOX_CLOCK_THREAD_CPUTIME_ID;
}

int __wrap_clock_gettime(clockid_t clock_id, struct timespec *ts) {
    if (!is_cpu_clock(clock_id)) return __real_clock_gettime(clock_id, ts);
    uint64_t ns = cpu_ns();
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
    return 0;
}

int __wrap_clock_getres(clockid_t clock_id, struct timespec *res) {
    if (!is_cpu_clock(clock_id)) return __real_clock_getres(clock_id, res);
    /* The monotonic clock's resolution, which this clock inherits. */
    return __real_clock_getres(CLOCK_MONOTONIC, res);
}

__wasi_errno_t __wrap___wasi_poll_oneoff(const __wasi_subscription_t *in, __wasi_event_t *out,
                                         __wasi_size_t nsubscriptions, __wasi_size_t *nevents) {
    if (!in_call) return __real___wasi_poll_oneoff(in, out, nsubscriptions, nevents);
    uint64_t started = monotonic_ns();
    __wasi_errno_t result = __real___wasi_poll_oneoff(in, out, nsubscriptions, nevents);
    blocked_in_call_ns += monotonic_ns() - started;
    return result;
}

/* ---- the time module -------------------------------------------------------------------------- */

/* CPython leaves thread_time out on WASI, and the CPU-time clock ids with it. */
static PyObject *thread_time(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return PyFloat_FromDouble((double)cpu_ns() * 1e-9);
}

static PyObject *thread_time_ns(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return PyLong_FromUnsignedLongLong(cpu_ns());
}

static PyMethodDef thread_time_methods[] = {
    {"thread_time", thread_time, METH_NOARGS,
     "thread_time() -> float\n\nCPU time of the current thread, in seconds: in the sandbox, its only\n"
     "thread, so the same as process_time()."},
    {"thread_time_ns", thread_time_ns, METH_NOARGS,
     "thread_time_ns() -> int\n\nCPU time of the current thread, in nanoseconds."},
    {NULL, NULL, 0, NULL},
};

int cpu_clock_install(void) {
    PyObject *time_module = PyImport_ImportModule("time");
    if (time_module == NULL) return -1;
    int status = PyModule_AddFunctions(time_module, thread_time_methods);
    if (status == 0)
        status = PyModule_AddIntConstant(time_module, "CLOCK_PROCESS_CPUTIME_ID",
                                         (long)(uintptr_t)SANDBOX_CLOCK_PROCESS_CPUTIME_ID);
    if (status == 0)
        status = PyModule_AddIntConstant(time_module, "CLOCK_THREAD_CPUTIME_ID",
                                         (long)(uintptr_t)SANDBOX_CLOCK_THREAD_CPUTIME_ID);
    Py_DECREF(time_module);
    return status;
}
