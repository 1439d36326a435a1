// The layout of a python-base artifact: written by scripts/build.mjs, read by index.js.

/** Version of base.json's shape; a guest build refuses a base it does not understand. */
export const BASE_FORMAT = 1;
export const BASE_MANIFEST = 'base.json';
/** The linked, not yet pre-initialised CPython reactor module. */
export const BASE_MODULE = 'python-base.wasm';
export const STDLIB_DIR = 'stdlib';
/**
 * CPython's own WASI build uses a 512 KiB stack (wasm-ld's default of 64 KiB is too small for
 * the interpreter).
 */
export const STACK_SIZE_BYTES = 512 * 1024;

/**
 * The shim's table of interrupt words (native/cpython-shim.c, `sandbox_interrupt_table`): its
 * address and magic are recorded in base.json as `interruptTable`; wizer.initialize fills it.
 */
export const INTERRUPT_TABLE_SYMBOL = 'sandbox_interrupt_table';
/** The table starts with this text, NUL-padded to 32 bytes, once wizer.initialize has run. */
export const INTERRUPT_TABLE_MAGIC = 'component-sandbox interrupt v1';
