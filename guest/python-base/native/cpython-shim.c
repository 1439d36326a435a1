/*
 * cpython-shim.c: the exports of world `sandbox-extended` (wit/sandbox-extended.wit: world
 * `sandbox` plus `run`), implemented by embedding CPython and calling the guest's guest.py
 * (guest/python/guest.py for the default guest). Its `host` import is host-functions.c.
 *
 *   export eval: func(expression: string) -> result<string, string>;
 *   export exec: func(statements: string) -> result<_, string>;
 *   export run: func(code: string) -> result<option<string>, string>;
 *
 * The shim is linked once, without any guest code, into the base module that
 * @component-sandbox/python-base publishes. A guest build then runs wizer.initialize over that
 * base with the guest's own files mapped at /app: guest.py is imported from there, and so is
 * whatever it imports; the snapshot holds them all.
 *
 * This file speaks the component model's canonical ABI directly, so no bindings generator is
 * needed: `wasm-tools component embed` + `component new` lift these core exports as they are.
 *
 *   eval(ptr, len) -> retptr      exec(ptr, len) -> retptr
 *     The argument is a UTF-8 string the host wrote into memory it got from cabi_realloc; the
 *     callee owns it and frees it. The return area is 12 bytes: u8 discriminant at 0 (0 = ok,
 *     1 = err), then the payload string as u32 pointer at 4 and u32 length at 8 (exec's ok case
 *     has no payload).
 *   run(ptr, len) -> retptr
 *     The return area is 16 bytes: u8 discriminant at 0; ok: u8 option discriminant at 4, then
 *     the string's pointer at 8 and length at 12; err: the string at 4 and 8.
 *   cabi_post_eval(retptr), cabi_post_exec(retptr), cabi_post_run(retptr)
 *     Called by the host after it has copied the result out; they free the payload.
 *   wizer.initialize()
 *     Run once at build time by Wizer: starts Python, loads guest.py and imports common modules,
 *     so every instance starts from that snapshot instead of paying for it per sandbox.
 *
 * Snapshot caveats (why some state is per instance):
 *   - The str/bytes hash seed is chosen when Python starts, which is inside Wizer. Every instance
 *     built from one snapshot therefore has the same hash("abc") and the same set iteration
 *     order. It is still random per build, never a fixed public value; it cannot be re-drawn
 *     after start-up because every dict in the snapshot depends on it.
 *   - `random`'s generator state is in the snapshot too, so the first call of each instance
 *     re-seeds it from the host's entropy (random.seed() reads os.urandom).
 *
 * The guest must never exit or trap because of guest code: every Python exception, including
 * SystemExit and KeyboardInterrupt, becomes an `err` string `ExcType: message`.
 */

#include <Python.h>
/* _PY_ASYNC_EXCEPTION_BIT, the eval-breaker bit of a pending asynchronous exception, is internal
 * to CPython; the shim reads only that constant from the internal header. */
#define Py_BUILD_CORE 1
#include <internal/pycore_ceval.h>
#undef Py_BUILD_CORE

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generated when the base is built: SANDBOX_BINDINGS_SOURCE (native/sandbox_bindings.py),
 * NUL-terminated. The bindings are part of the base, not of any guest. */
#include "embedded_sources.h"
#include "host-functions.h"

#include "cpu-clock.h"
#include "timezone.h"

/* Given by the build from the project's shared names (PYTHON_STDLIB_GUEST_PATH,
 * PYTHON_APP_GUEST_PATH), as wide string literals:
 *   STDLIB_MOUNT  the read-only stdlib tree the host mounts; Python's home.
 *   APP_MOUNT     the guest's own read-only tree (guest.py and the modules shipped beside it),
 *                 searched first, as Python searches a script's own directory first. */
#if !defined(STDLIB_MOUNT) || !defined(APP_MOUNT)
#error "build with -DSTDLIB_MOUNT=L\"...\" -DAPP_MOUNT=L\"...\""
#endif
/* The module the guest build puts at /app/guest.py. */
#define GUEST_MODULE "guest"

/* Imported inside Wizer so they are part of the snapshot: what sandboxed code commonly uses. */
static const char *const PRELOADED_MODULES[] = {
    "json",      "re",        "collections", "random",  "math",   "cmath",  "datetime",
    "decimal",   "fractions", "statistics",  "dataclasses", "itertools", "functools",
    "operator",  "string",    "heapq",       "bisect",  "copy",   "struct", "time",
    "base64",
};

/* ---- canonical ABI: return area and memory ------------------------------------------------ */

typedef struct {
    uint8_t is_err;
    char *payload; /* UTF-8, not NUL-terminated; NULL for exec's ok */
    size_t payload_len;
} ReturnArea;

_Static_assert(sizeof(char *) == 4 && sizeof(size_t) == 4, "wasm32 layout expected");
_Static_assert(offsetof(ReturnArea, payload) == 4, "canonical ABI: pointer at offset 4");
_Static_assert(offsetof(ReturnArea, payload_len) == 8, "canonical ABI: length at offset 8");
_Static_assert(sizeof(ReturnArea) == 12, "canonical ABI: 12-byte return area");

static ReturnArea return_area;
/* True when the payload is a malloc'ed copy; false for a static string (used when even malloc
 * failed) or a str's own UTF-8 buffer (payload_str). */
static bool payload_owned;
/* The str whose UTF-8 buffer the payload points into, kept alive until cabi_post_*: a large
 * result or error is then never copied (an ASCII str is its own UTF-8), which matters near the
 * memory limit, where two more copies of a few MiB fail where the string itself fit. */
static PyObject *payload_str;

/* Zero-length allocations get this address instead of heap memory: a host may also pass an
 * empty string without calling cabi_realloc at all (with a made-up pointer such as 1), so an
 * empty argument must never be freed, and this way none of ours needs to be. */
static _Alignas(16) char zero_length_allocation[16];

/* The host allocates argument strings through this. Failing to allocate cannot be reported
 * to the host in the canonical ABI, so it traps (the host sees a dead sandbox, not a bad one). */
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old_ptr, size_t old_len, size_t align, size_t new_len) {
    (void)align; /* malloc's alignment (16) covers every canonical ABI alignment */
    if (old_ptr == zero_length_allocation || old_len == 0) old_ptr = NULL;
    if (new_len == 0) {
        free(old_ptr);
        return zero_length_allocation;
    }
    void *ptr = realloc(old_ptr, new_len);
    if (ptr == NULL) __builtin_trap();
    return ptr;
}

/* Arguments belong to the callee once passed; see zero_length_allocation for the empty case. */
static void release_argument(char *ptr, size_t len) {
    if (len > 0) free(ptr);
}

static void release_payload(void) {
    if (payload_owned) free(return_area.payload);
    Py_CLEAR(payload_str);
    return_area = (ReturnArea){0};
    payload_owned = false;
}

static ReturnArea *finish(bool is_err, char *payload, size_t len, bool owned) {
    return_area = (ReturnArea){.is_err = is_err, .payload = payload, .payload_len = len};
    payload_owned = owned;
    return &return_area;
}

static ReturnArea *finish_ok_empty(void) { return finish(false, NULL, 0, false); }

/* Copies a C string into a result; falls back to a static message if memory is exhausted. */
static ReturnArea *finish_with_copy(bool is_err, const char *text, size_t len) {
    char *copy = malloc(len == 0 ? 1 : len);
    if (copy == NULL) {
        static char out_of_memory[] = "MemoryError";
        return finish(true, out_of_memory, sizeof out_of_memory - 1, false);
    }
    memcpy(copy, text, len);
    return finish(is_err, copy, len, true);
}

/* A Python str as UTF-8: its own UTF-8 buffer when it has one (no copy), else a copy in which
 * lone surrogates are replaced: the canonical ABI only carries valid UTF-8, and a host would
 * trap on anything else. */
static ReturnArea *finish_with_str(bool is_err, PyObject *text) {
    Py_ssize_t size;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &size);
    if (utf8 != NULL) {
        ReturnArea *area = finish(is_err, (char *)utf8, (size_t)size, false);
        payload_str = Py_NewRef(text);
        return area;
    }
    PyErr_Clear(); /* lone surrogates (UnicodeEncodeError), or no memory for the UTF-8 form */
    PyObject *encoded = PyUnicode_AsEncodedString(text, "utf-8", "replace");
    if (encoded == NULL) {
        PyErr_Clear();
        return finish_with_copy(true, "MemoryError", strlen("MemoryError"));
    }
    ReturnArea *area = finish_with_copy(is_err, PyBytes_AS_STRING(encoded), (size_t)PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return area;
}

/* ---- Python state -------------------------------------------------------------------------- */

static PyObject *guest_object; /* the instance of guest.py's world class */
static PyObject *err_class;    /* sandbox.types.Err */
static char startup_failure[512];
/* Per instance: false in the snapshot, so the first call after instantiation re-seeds. */
static bool random_reseeded;

static bool record_startup_failure(const char *what, const char *detail) {
    snprintf(startup_failure, sizeof startup_failure, "RuntimeError: %s%s%s", what, detail ? ": " : "",
             detail ? detail : "");
    return false;
}

/* Prints the pending exception to stderr. Unlike PyErr_Print, never exits on SystemExit. */
static void print_pending_exception(void) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (type == NULL) return;
    PyErr_NormalizeException(&type, &value, &traceback);
    PyErr_Display(type, value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    PyErr_Clear();
}

static bool start_python(void) {
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    PyStatus status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status)) return record_startup_failure("Python pre-initialisation failed", status.err_msg);

    if (PyImport_AppendInittab("_sandbox_host", sandbox_host_init_module) != 0) {
        return record_startup_failure("registering the module _sandbox_host failed", NULL);
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config); /* no environment, no user site, no cwd on sys.path */
    config.site_import = 0;
    config.write_bytecode = 0;          /* the stdlib is read-only and precompiled */
    config.install_signal_handlers = 0; /* there are no signals in WASI */
    config.buffered_stdio = 0;          /* the host captures output per call: flush as written */
    config.pathconfig_warnings = 0;
    status = PyConfig_SetString(&config, &config.home, STDLIB_MOUNT);
    if (!PyStatus_Exception(status)) {
        config.module_search_paths_set = 1;
        status = PyWideStringList_Append(&config.module_search_paths, APP_MOUNT);
    }
    if (!PyStatus_Exception(status)) status = PyWideStringList_Append(&config.module_search_paths, STDLIB_MOUNT);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) return record_startup_failure("Python initialisation failed", status.err_msg);
    return true;
}

/* Compiles `source` and runs it as module `name`; a new reference, or NULL with an exception. */
static PyObject *run_embedded_module(const char *name, const char *filename, const char *source) {
    PyObject *code = Py_CompileString(source, filename, Py_file_input);
    if (code == NULL) return NULL;
    PyObject *module = PyImport_ExecCodeModuleEx(name, code, filename);
    Py_DECREF(code);
    return module;
}

/* The class componentize-py would instantiate: named after the world, or `WitWorld`. */
static PyObject *find_world_class(PyObject *guest_module) {
    static const char *const candidates[] = {"Sandbox", "WitWorld"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        PyObject *cls = PyObject_GetAttrString(guest_module, candidates[i]);
        if (cls != NULL) return cls;
        PyErr_Clear();
    }
    PyErr_SetString(PyExc_AttributeError, "guest.py defines neither class Sandbox nor WitWorld");
    return NULL;
}

static bool load_guest(void) {
    PyObject *bindings = run_embedded_module("sandbox", "<sandbox bindings>", SANDBOX_BINDINGS_SOURCE);
    if (bindings == NULL) return false;
    PyObject *types = PyObject_GetAttrString(bindings, "types");
    Py_DECREF(bindings);
    if (types == NULL) return false;
    err_class = PyObject_GetAttrString(types, "Err");
    Py_DECREF(types);
    if (err_class == NULL) return false;

    /* Before the guest: its own imports may need the packages this sets up (sandbox_site.py). */
    PyObject *site = run_embedded_module("_sandbox_site", "<sandbox site>", SANDBOX_SITE_SOURCE);
    if (site == NULL) return false;
    Py_DECREF(site);

    /* `import host` (host functions) and sys.stdin (the call's stdin text), for every guest. */
    PyObject *host = run_embedded_module("host", "<sandbox host>", SANDBOX_HOST_SOURCE);
    if (host == NULL) return false;
    Py_DECREF(host);
    PyObject *stdin_module = run_embedded_module("_sandbox_stdin", "<sandbox stdin>", SANDBOX_STDIN_SOURCE);
    if (stdin_module == NULL) return false;
    Py_DECREF(stdin_module);

    PyObject *guest_module = PyImport_ImportModule(GUEST_MODULE);
    if (guest_module == NULL) return false;
    PyObject *world_class = find_world_class(guest_module);
    Py_DECREF(guest_module);
    if (world_class == NULL) return false;
    guest_object = PyObject_CallNoArgs(world_class);
    Py_DECREF(world_class);
    return guest_object != NULL;
}

/* Starts Python and loads guest.py unless that has happened (normally inside Wizer). */
static bool ensure_guest_loaded(void) {
    if (guest_object != NULL) return true;
    if (startup_failure[0] != '\0') return false;
    if (!Py_IsInitialized() && !start_python()) return false;
    if (cpu_clock_install() < 0 || timezone_install() < 0) {
        print_pending_exception();
        return record_startup_failure("adding the CPU-time clocks or tzset to the time module failed", NULL);
    }
    if (!load_guest()) {
        print_pending_exception();
        return record_startup_failure("loading guest.py failed", NULL);
    }
    return true;
}

static void reseed_random_once(void) {
    if (random_reseeded) return;
    random_reseeded = true;
    PyObject *random = PyImport_ImportModule("random");
    PyObject *result = random ? PyObject_CallMethod(random, "seed", NULL) : NULL;
    Py_XDECREF(result);
    Py_XDECREF(random);
    PyErr_Clear(); /* a failed re-seed leaves the snapshot's state; not worth failing a call */
}

/* ---- exceptions to error strings ----------------------------------------------------------- */

/* `ExcType: message`, or `ExcType` when the message is empty (same format as guest.py). */
static ReturnArea *finish_with_exception_description(PyObject *type, PyObject *value) {
    PyObject *type_name = PyType_Check(type) ? PyType_GetName((PyTypeObject *)type) : NULL;
    PyObject *message = value ? PyObject_Str(value) : NULL;
    PyErr_Clear();
    PyObject *text = NULL;
    if (type_name != NULL) {
        text = (message && PyUnicode_GetLength(message) > 0) ? PyUnicode_FromFormat("%U: %U", type_name, message)
                                                              : Py_NewRef(type_name);
    }
    Py_XDECREF(message);
    Py_XDECREF(type_name);
    if (text == NULL) {
        PyErr_Clear();
        static const char unknown[] = "Exception";
        return finish_with_copy(true, unknown, sizeof unknown - 1);
    }
    ReturnArea *area = finish_with_str(true, text);
    Py_DECREF(text);
    return area;
}

/* Turns the pending exception into an err result: guest.py's Err carries the finished string;
 * anything else (a bug in guest.py, or an exception it could not catch) is described here. */
static ReturnArea *finish_with_pending_exception(void) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    ReturnArea *area = NULL;
    if (value != NULL && err_class != NULL && PyObject_IsInstance(value, err_class) == 1) {
        PyObject *err_value = PyObject_GetAttrString(value, "value");
        PyObject *text = err_value ? PyObject_Str(err_value) : NULL;
        if (text != NULL) area = finish_with_str(true, text);
        Py_XDECREF(text);
        Py_XDECREF(err_value);
        PyErr_Clear();
    }
    if (area == NULL) area = finish_with_exception_description(type, value);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    PyErr_Clear();
    return area;
}

/* ---- headroom for the call after a MemoryError ---------------------------------------------- */

/* When guest code fills memory to the limit and keeps it referenced (`blocks.append(...)` in a
 * loop over a global), the next call must still be able to compile and run `del blocks`. Some of
 * CPython 3.13's allocations on that path fail without raising MemoryError (which one was not
 * pinned down; every later call ended as "SystemError: error return without exception set"),
 * and the sandbox could never recover. So the shim holds a reserve while a call runs and gives it
 * back when the call fails: the following call has that much memory to work with, whatever the
 * previous one left. The reserve is taken again before every call, not only after a successful
 * one: two failed calls in a row (a too large allocation, then a loop that fills memory) must
 * leave room as much as one does. 64 KiB is enough to compile and run a small statement; larger
 * reserves (512 KiB, 1 MiB) measured worse: they were taken back from the memory the next call
 * needed, and calls alternately failed. */
#define HEADROOM_BYTES (64 * 1024)
static void *headroom;

/* Before a call. Taken only when as much again stays free: while the guest still holds nearly
 * all of the memory (after a failed call gave the reserve back), the reserve stays with this
 * call, which may be the `del` that frees it. */
static void take_headroom(void) {
    if (headroom != NULL) return;
    /* volatile: a malloc whose result is only freed may be left out by the compiler, and the
     * probe would then never take its share. */
    void *volatile probe = malloc(HEADROOM_BYTES);
    headroom = probe ? malloc(HEADROOM_BYTES) : NULL;
    free(probe);
}

/* After a failed call. */
static void release_headroom(void) {
    free(headroom);
    headroom = NULL;
}

/* ---- the exports ----------------------------------------------------------------------------- */

/* What a guest method returns: nothing (exec), a str (eval), or a str or None (run). */
typedef enum { RETURNS_NOTHING, RETURNS_STRING, RETURNS_OPTIONAL_STRING } ReturnKind;

/* Calls guest_object.<method>(argument) and translates the outcome into the return area. */
static ReturnArea *run_guest_method(const char *method, char *arg_ptr, size_t arg_len, ReturnKind returns);

static ReturnArea *call_guest(const char *method, char *arg_ptr, size_t arg_len, ReturnKind returns) {
    cpu_clock_enter();
    take_headroom();
    ReturnArea *area = run_guest_method(method, arg_ptr, arg_len, returns);
    if (area->is_err) release_headroom();
    cpu_clock_leave();
    return area;
}

static ReturnArea *run_guest_method(const char *method, char *arg_ptr, size_t arg_len, ReturnKind returns) {
    release_payload();
    if (!ensure_guest_loaded()) {
        release_argument(arg_ptr, arg_len);
        return finish_with_copy(true, startup_failure, strlen(startup_failure));
    }
    reseed_random_once();
    sandbox_host_begin_call();
    PyObject *argument = PyUnicode_DecodeUTF8(arg_ptr, (Py_ssize_t)arg_len, "strict");
    release_argument(arg_ptr, arg_len);
    if (argument == NULL) return finish_with_pending_exception();

    PyObject *name = PyUnicode_FromString(method);
    PyObject *result = name ? PyObject_CallMethodOneArg(guest_object, name, argument) : NULL;
    Py_XDECREF(name);
    Py_DECREF(argument);
    if (result == NULL) return finish_with_pending_exception();

    ReturnArea *area;
    if (returns == RETURNS_NOTHING || (returns == RETURNS_OPTIONAL_STRING && result == Py_None)) {
        area = finish_ok_empty();
    } else if (PyUnicode_Check(result)) {
        area = finish_with_str(false, result);
    } else {
        static const char not_a_string[] = "TypeError: guest eval() must return str";
        area = finish_with_copy(true, not_a_string, sizeof not_a_string - 1);
    }
    Py_DECREF(result);
    return area;
}

__attribute__((export_name("eval")))
ReturnArea *sandbox_eval(char *expression, size_t len) { return call_guest("eval", expression, len, RETURNS_STRING); }

__attribute__((export_name("exec")))
ReturnArea *sandbox_exec(char *statements, size_t len) { return call_guest("exec", statements, len, RETURNS_NOTHING); }

/* result<option<string>, string>: the ok case's option starts at 4, its string at 8. */
typedef struct {
    uint8_t is_err;
    union {
        struct {
            uint8_t is_some;
            char *payload;
            size_t payload_len;
        } ok;
        struct {
            char *payload;
            size_t payload_len;
        } err;
    } u;
} RunReturnArea;

_Static_assert(offsetof(RunReturnArea, u) == 4, "canonical ABI: payload at offset 4");
_Static_assert(offsetof(RunReturnArea, u.ok.payload) == 8, "canonical ABI: option's string at 8");
_Static_assert(sizeof(RunReturnArea) == 16, "canonical ABI: 16-byte return area");

static RunReturnArea run_area;

/* A cell: guest.py's run() returns the JSON of its last expression's value, or None. The
 * payload stays owned by return_area, so cabi_post_run frees it like the others. */
__attribute__((export_name("run")))
RunReturnArea *sandbox_run(char *code, size_t len) {
    ReturnArea *area = call_guest("run", code, len, RETURNS_OPTIONAL_STRING);
    run_area = (RunReturnArea){.is_err = area->is_err};
    if (area->is_err) {
        run_area.u.err.payload = area->payload;
        run_area.u.err.payload_len = area->payload_len;
    } else if (area->payload != NULL) {
        run_area.u.ok.is_some = 1;
        run_area.u.ok.payload = area->payload;
        run_area.u.ok.payload_len = area->payload_len;
    }
    return &run_area;
}

__attribute__((export_name("cabi_post_eval")))
void sandbox_post_eval(ReturnArea *area) {
    (void)area;
    release_payload();
}

__attribute__((export_name("cabi_post_exec")))
void sandbox_post_exec(ReturnArea *area) {
    (void)area;
    release_payload();
}

__attribute__((export_name("cabi_post_run")))
void sandbox_post_run(RunReturnArea *area) {
    (void)area;
    release_payload();
}

/* ---- interrupt words ------------------------------------------------------------------------- */

/* How a host stops a call from another thread by writing into this instance's (shared) linear
 * memory; guest-build reads this table from the Wizer snapshot and copies it into the manifest.
 *
 * Soft stop (CPython's own asynchronous exception, what PyThreadState_SetAsyncExc does): the
 * host stores `exception` (the address of the static, immortal PyExc_KeyboardInterrupt type) at
 * `async_exc` (&tstate->async_exc), then ORs (1 << async_exception_bit) into the word at
 * `eval_breaker` (&tstate->eval_breaker). At its next eval-breaker check (JUMP_BACKWARD, RESUME,
 * after calls) the interpreter's _Py_HandlePending clears the bit, takes async_exc and raises it:
 * `finally` blocks run, guest.py turns it into err("KeyboardInterrupt"), globals survive. An
 * immortal object is required because _Py_HandlePending drops a reference to it.
 * The main thread state lives inside the static _PyRuntime, so these addresses are fixed for the
 * life of the snapshot (WASI has no threads; guest code cannot make another thread state).
 *
 * Hard stop: `hard_stop` is the word guest-build's inserted loop-header checks read (nothing
 * else reads or writes it); they trap when it holds the value recorded in the manifest. */
static void fail_snapshot(const char *what);

/* Given by the build (INTERRUPT_TABLE_MAGIC in layout.js, which guest-build checks), as a string
 * literal of at most 31 bytes. */
#ifndef INTERRUPT_TABLE_MAGIC
#error "build with -DINTERRUPT_TABLE_MAGIC=\"...\""
#endif

typedef struct {
    char magic[32]; /* INTERRUPT_TABLE_MAGIC, NUL-padded: written only by wizer.initialize */
    uint32_t hard_stop;
    uint32_t eval_breaker;
    uint32_t async_exc;
    uint32_t exception;
    uint32_t async_exception_bit;
} InterruptTable;

_Static_assert(sizeof(INTERRUPT_TABLE_MAGIC) <= 32, "magic fits");
_Static_assert(offsetof(InterruptTable, hard_stop) == 32, "layout read by guest-build");
_Static_assert(sizeof(((PyThreadState *)0)->eval_breaker) == 4, "a 32-bit eval breaker");
_Static_assert(sizeof(((PyThreadState *)0)->async_exc) == 4, "a 32-bit pointer");

/* Not static: its address is looked up in the linker map when the base is built. */
__attribute__((used, aligned(16))) volatile InterruptTable sandbox_interrupt_table;

static void publish_interrupt_table(void) {
    PyThreadState *tstate = PyThreadState_Get();
    _Static_assert((_PY_ASYNC_EXCEPTION_BIT & (_PY_ASYNC_EXCEPTION_BIT - 1)) == 0, "one bit");
    sandbox_interrupt_table.hard_stop = 0;
    sandbox_interrupt_table.eval_breaker = (uint32_t)(uintptr_t)&tstate->eval_breaker;
    sandbox_interrupt_table.async_exc = (uint32_t)(uintptr_t)&tstate->async_exc;
    sandbox_interrupt_table.exception = (uint32_t)(uintptr_t)PyExc_KeyboardInterrupt;
    sandbox_interrupt_table.async_exception_bit = (uint32_t)__builtin_ctz(_PY_ASYNC_EXCEPTION_BIT);
    for (size_t i = 0; i < sizeof sandbox_interrupt_table.magic; i++) {
        sandbox_interrupt_table.magic[i] = i < sizeof INTERRUPT_TABLE_MAGIC ? INTERRUPT_TABLE_MAGIC[i] : 0;
    }
}

/* Proves, in this very build, that a soft stop written the way a host writes it interrupts a
 * Python loop: a wrong field, bit or exception fails the base's snapshot instead of shipping a
 * guest that cannot be stopped. */
static void check_soft_stop(void) {
    if (!_Py_IsImmortal(PyExc_KeyboardInterrupt)) fail_snapshot("KeyboardInterrupt is not immortal");
    *(PyObject *volatile *)(uintptr_t)sandbox_interrupt_table.async_exc =
        (PyObject *)(uintptr_t)sandbox_interrupt_table.exception;
    *(volatile uintptr_t *)(uintptr_t)sandbox_interrupt_table.eval_breaker |=
        (uintptr_t)1 << sandbox_interrupt_table.async_exception_bit;
    PyObject *globals = PyDict_New();
    PyObject *result = globals ? PyRun_String("n = 0\nwhile n < 10_000_000:\n    n += 1\n", Py_file_input, globals, globals)
                               : NULL;
    bool interrupted = result == NULL && PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
    Py_XDECREF(result);
    Py_XDECREF(globals);
    if (!interrupted) fail_snapshot("the soft stop did not interrupt a Python loop");
    PyErr_Clear();
    PyThreadState *tstate = PyThreadState_Get();
    if (tstate->async_exc != NULL || (tstate->eval_breaker & _PY_ASYNC_EXCEPTION_BIT) != 0) {
        fail_snapshot("the soft stop was not consumed");
    }
}

/* ---- build-time pre-initialisation ---------------------------------------------------------- */

static void fail_snapshot(const char *what) {
    print_pending_exception();
    fprintf(stderr, "cpython-shim: %s\n", what);
    fflush(stderr);
    __builtin_trap(); /* makes Wizer fail the build instead of snapshotting a broken guest */
}

/* One round trip through the guest so lazily built caches (json encoder, compiler) are warm. */
static void warm_up(void) {
    static char expression[] = "None";
    char *copy = cabi_realloc(NULL, 0, 1, sizeof expression - 1);
    memcpy(copy, expression, sizeof expression - 1);
    ReturnArea *area = call_guest("eval", copy, sizeof expression - 1, RETURNS_STRING);
    if (area->is_err) fail_snapshot("warm-up eval failed");
    release_payload();
    random_reseeded = false; /* call_guest re-seeded; the snapshot must leave that to instances */
    cpu_clock_reset();
}

__attribute__((export_name("wizer.initialize")))
void wizer_initialize(void) {
    sandbox_host_set_preinitializing(true); /* Wizer provides no host functions */
    if (!ensure_guest_loaded()) fail_snapshot(startup_failure);
    for (size_t i = 0; i < sizeof PRELOADED_MODULES / sizeof *PRELOADED_MODULES; i++) {
        PyObject *module = PyImport_ImportModule(PRELOADED_MODULES[i]);
        if (module == NULL) fail_snapshot(PRELOADED_MODULES[i]);
        Py_DECREF(module);
    }
    warm_up();
    publish_interrupt_table();
    check_soft_stop();
    /* Everything alive now lives as long as the instance: move it out of the collector's way so
     * garbage collections in guest code never traverse the snapshot's objects. */
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *collected = gc ? PyObject_CallMethod(gc, "collect", NULL) : NULL;
    PyObject *frozen = collected ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
    if (frozen == NULL) fail_snapshot("gc.freeze() failed");
    Py_DECREF(frozen);
    Py_DECREF(collected);
    Py_DECREF(gc);
    sandbox_host_set_preinitializing(false);
}
