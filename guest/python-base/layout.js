// The layout of a python-base artifact: written by scripts/build.mjs, read by index.js.

/** Version of base.json's shape; a guest build refuses a base it does not understand. */
export const BASE_FORMAT = 1;
export const BASE_MANIFEST = 'base.json';
/** The linked, not yet pre-initialised CPython reactor module. */
export const BASE_MODULE = 'python-base.wasm';
export const STDLIB_DIR = 'stdlib';
/**
 * The C stack. Recursion through C code (a recursive `__repr__`, `sorted` with a recursive key)
 * uses it on every level, and an overflow kills the instance where CPython's limits would have
 * raised RecursionError. 4 MiB holds every case measured at CPython's default recursion limit of
 * 1000 (the deepest, sorting with a recursive key, uses 2.6 MiB with the toolchain's LTO), and
 * all but one with the limit raised, up to CPython's C recursion limit (see
 * guest/python/README.md). It counts towards a sandbox's memory limit, so it is not bigger
 * (CPython's own WASI build uses 8 MiB; wasm-ld's default is 64 KiB).
 */
export const STACK_SIZE_BYTES = 4 * 1024 * 1024;

/**
 * The shim's table of interrupt words (native/cpython-shim.c, `sandbox_interrupt_table`): its
 * address and magic are recorded in base.json as `interruptTable`; wizer.initialize fills it.
 */
export const INTERRUPT_TABLE_SYMBOL = 'sandbox_interrupt_table';
/** The table starts with this text, NUL-padded to 32 bytes, once wizer.initialize has run. */
export const INTERRUPT_TABLE_MAGIC = 'component-sandbox interrupt v1';
