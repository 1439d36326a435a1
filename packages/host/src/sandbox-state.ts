/** `ready`: takes calls. `dead`: a call trapped or ran away; `reset()` revives it. `closed`: gone. */
export type SandboxState = 'ready' | 'dead' | 'closed';
