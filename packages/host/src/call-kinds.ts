/** The guest exports a call runs: exec, eval, and run (cells, world sandbox-extended); in this order on the wire. */
export const CALL_KINDS = ['exec', 'eval', 'run'] as const;
/** `exec` (statements), `eval` (an expression), `run` (a cell). */
export type CallKind = (typeof CALL_KINDS)[number];
