/*
 * host-functions.h: the `host` interface of world sandbox-extended for the CPython shim (see
 * host-functions.c). cpython-shim.c registers the module and calls sandbox_host_begin_call
 * before each export runs guest code.
 */
#ifndef SANDBOX_HOST_FUNCTIONS_H
#define SANDBOX_HOST_FUNCTIONS_H

#include <Python.h>
#include <stdbool.h>

/* The builtin module `_sandbox_host`; register with PyImport_AppendInittab before start-up. */
PyObject *sandbox_host_init_module(void);

/* A call of an export starts: counts it, and installs the host's functions if they changed. */
void sandbox_host_begin_call(void);

/* True while Wizer pre-initialises the module: the host is not there, nothing is asked of it. */
void sandbox_host_set_preinitializing(bool preinitializing);

#endif
