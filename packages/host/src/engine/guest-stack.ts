/**
 * The native stack a thread that runs guest code gets. Guests recurse on it (CPython's C code:
 * `repr` or `json.dumps` of a value 20,000 deep, deep recursion up to the recursion limit): with
 * this much, such code raises RecursionError or finishes; with Node's default (about 1 MB on a
 * main thread) the call traps with "Maximum call stack size exceeded" and the sandbox is lost.
 */
export const GUEST_THREAD_STACK_MB = 8;
