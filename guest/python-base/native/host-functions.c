/*
 * host-functions.c: the guest side of interface `host` of world sandbox-extended
 * (wit/sandbox-extended.wit), for Python:
 *
 *   functions-version: func() -> u32;
 *   function-names: func() -> list<string>;
 *   call: func(name: string, arguments: string) -> result<string, string>;
 *
 * as the builtin module `_sandbox_host`, which the embedded module `host` (sandbox_host.py)
 * builds on:
 *
 *   _sandbox_host.call(name, arguments_json) -> (ok, text)   the result's JSON, or the error message
 *   _sandbox_host.set_installer(fn)   fn(names) runs, before guest code, when the offered set changes
 *   _sandbox_host.call_number() -> int   counts the export calls (stdin starts afresh with each)
 *
 * The canonical ABI by hand, as in cpython-shim.c. Strings and lists the host returns are
 * allocated in this module's memory with cabi_realloc (malloc; a zero-length one is a static
 * address that must not be freed), and are ours to free.
 */
#include "host-functions.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define HOST_INTERFACE "component-sandbox:sandbox/host@0.1.0"

typedef struct {
    char *ptr;
    size_t len;
} WitString;

/* list<string>: pointer and length. */
typedef struct {
    WitString *names;
    size_t count;
} NamesArea;

_Static_assert(sizeof(NamesArea) == 8, "canonical ABI: 8-byte return area");

/* result<string, string>: 12 bytes; both cases carry a string at offset 4. */
typedef struct {
    uint8_t is_err;
    WitString text;
} CallArea;

_Static_assert(offsetof(CallArea, text) == 4, "canonical ABI: payload at offset 4");
_Static_assert(sizeof(CallArea) == 12, "canonical ABI: 12-byte return area");

__attribute__((import_module(HOST_INTERFACE), import_name("functions-version")))
extern uint32_t host_import_functions_version(void);

__attribute__((import_module(HOST_INTERFACE), import_name("function-names")))
extern void host_import_function_names(NamesArea *area);

__attribute__((import_module(HOST_INTERFACE), import_name("call")))
extern void host_import_call(const char *name, size_t name_len, const char *arguments, size_t arguments_len,
                             CallArea *area);

static void release(void *ptr, size_t len) {
    if (len > 0) free(ptr);
}

/* ---- per call -------------------------------------------------------------------------------- */

static bool preinitializing;
static unsigned long long call_number;
/* The version of the function set the installer was last given; 0 before any. */
static uint32_t known_version;
static PyObject *installer;

void sandbox_host_set_preinitializing(bool value) { preinitializing = value; }

/* The names as a Python list (strings freed on the way), or NULL with an exception set. */
static PyObject *take_names(NamesArea *area) {
    PyObject *names = PyList_New((Py_ssize_t)area->count);
    for (size_t i = 0; i < area->count; i++) {
        WitString name = area->names[i];
        PyObject *text = names ? PyUnicode_DecodeUTF8(name.ptr, (Py_ssize_t)name.len, "strict") : NULL;
        release(name.ptr, name.len);
        if (names == NULL) continue;
        if (text == NULL) Py_CLEAR(names);
        else PyList_SET_ITEM(names, (Py_ssize_t)i, text);
    }
    release(area->names, area->count * sizeof(WitString));
    return names;
}

void sandbox_host_begin_call(void) {
    call_number++;
    if (preinitializing) return;
    uint32_t version = host_import_functions_version();
    if (version == known_version) return;
    known_version = version;
    NamesArea area = {0};
    host_import_function_names(&area);
    PyObject *names = take_names(&area);
    /* A failure is reported on the call's stderr; the call goes on. */
    if (names == NULL) {
        PyErr_WriteUnraisable(NULL);
        return;
    }
    PyObject *done = installer ? PyObject_CallOneArg(installer, names) : Py_NewRef(Py_None);
    Py_DECREF(names);
    if (done == NULL) PyErr_WriteUnraisable(installer);
    Py_XDECREF(done);
}

/* ---- the module ------------------------------------------------------------------------------ */

static PyObject *host_call(PyObject *self, PyObject *args) {
    (void)self;
    const char *name, *arguments;
    Py_ssize_t name_len, arguments_len;
    if (!PyArg_ParseTuple(args, "s#s#:call", &name, &name_len, &arguments, &arguments_len)) return NULL;
    CallArea area = {0};
    host_import_call(name, (size_t)name_len, arguments, (size_t)arguments_len, &area);
    PyObject *text = PyUnicode_DecodeUTF8(area.text.ptr, (Py_ssize_t)area.text.len, "strict");
    release(area.text.ptr, area.text.len);
    if (text == NULL) return NULL;
    return Py_BuildValue("(ON)", area.is_err ? Py_False : Py_True, text);
}

static PyObject *host_set_installer(PyObject *self, PyObject *fn) {
    (void)self;
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "set_installer() needs a callable");
        return NULL;
    }
    Py_XSETREF(installer, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyObject *host_call_number(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromUnsignedLongLong(call_number);
}

static PyMethodDef host_methods[] = {
    {"call", host_call, METH_VARARGS, "call(name, arguments_json) -> (ok, result_json or error message)"},
    {"set_installer", host_set_installer, METH_O, "set_installer(fn): fn(names) runs when the offered functions change"},
    {"call_number", host_call_number, METH_NOARGS, "call_number() -> how many export calls have started"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_sandbox_host",
    .m_doc = "The host interface of world sandbox-extended (use the module `host`).",
    .m_size = -1,
    .m_methods = host_methods,
};

PyObject *sandbox_host_init_module(void) { return PyModule_Create(&host_module); }
