/**
 * What the host and its executor threads say to each other. Calls travel through a shared slot
 * (call-channel.ts); everything else (guests, sandboxes, evictions) through the executor's
 * setup port, read synchronously before the next call, so an executor never returns to its
 * event loop while it serves calls.
 */
import type { ReadOnlyMount } from '../wasi/index.js';
import type { ScratchMeta } from '../wasi/scratch-store.js';
import { USER_WORDS } from '../call-channel.js';
import type { FunctionsSetup } from '../functions/protocol.js';
import { CALL_KINDS, type CallKind } from '../call-kinds.js';

/** Channel words this protocol adds to the call slot. */
export const WORD = {
  /** Id of the sandbox the request is for. */
  target: USER_WORDS[0],
  /** Non-zero while the running call must stop: sleeps and polls wake up and return. */
  interrupt: USER_WORDS[1],
  /** Setup messages posted and not yet read by the executor. */
  setupPending: USER_WORDS[2],
  /** Non-zero while the executor collects garbage (executor-idle.ts): better give calls elsewhere. */
  collecting: USER_WORDS[3],
} as const;

/** Everything an executor needs to instantiate one guest artifact. */
export interface GuestSetup {
  type: 'guest';
  guestKey: string;
  /** Rewritten, compiled core modules, by file name. */
  modules: ReadonlyMap<string, WebAssembly.Module>;
  /** The guest's preopened read-only trees, in preopen order. */
  mounts: readonly ReadOnlyMount[];
  /** The guest preopened `/` after them (see wasi/virtual-root.ts). */
  virtualRoot: boolean;
  /** Trees of the artifact seen through `/` only. */
  routedMounts: readonly ReadOnlyMount[];
}

/** Per-instance state that lives outside linear memory. */
export interface InstanceState {
  /** Values of the exported mutable globals (binding/globals.ts order). */
  globals: Array<number | bigint>;
  /** The resource handle tables (binding/handles.ts). */
  tables: unknown;
}

/** A sandbox's `/tmp`: bytes shared like its memory, and the names and block lists. */
export interface ScratchState {
  buffer: SharedArrayBuffer;
  meta: ScratchMeta;
}

export interface SandboxSetup {
  type: 'sandbox';
  id: number;
  guestKey: string;
  memory: WebAssembly.Memory;
  outputLimitBytes: number;
  memoryLimitBytes: number;
  /** The host functions the sandbox's guest may call. */
  functions: FunctionsSetup;
  /** The scratch directory; absent for guests without a virtual root. */
  scratch?: ScratchState;
  /** Read-only trees this sandbox mounts below `/` besides the guest's own. */
  mounts: readonly ReadOnlyMount[];
  /** State to restore into a new instance; absent for a fresh sandbox. */
  state?: InstanceState;
  /** The call count the state belongs to; an executor with an older instance rebuilds it. */
  version: number;
}

export interface EvictSetup {
  type: 'evict';
  id: number;
}

/** Bit of a request's kind word: the payload starts with the call's stdin. */
const WITH_STDIN = 0x100;

/** Bit of a request's kind word: the caller wants the output as it is written. */
const LIVE_OUTPUT = 0x200;

/**
 * The host call name an executor uses to send live output to the caller's thread (arguments:
 * `[stdoutText, stderrText]`). No host function can have it: names are identifiers.
 */
export const OUTPUT_CALL = '\u0000output';

/** One call as the call slot carries it: the kind word, and the code (after stdin, if any). */
export function encodeRequest(
  kind: CallKind,
  code: string,
  stdin: string | undefined,
  liveOutput = false,
): [number, string] {
  const word = CALL_KINDS.indexOf(kind) | (liveOutput ? LIVE_OUTPUT : 0);
  return stdin === undefined ? [word, code] : [word | WITH_STDIN, `${stdin.length}\n${stdin}${code}`];
}

export function decodeRequest(
  word: number,
  text: string,
): { kind: CallKind; code: string; stdin?: string; liveOutput: boolean } {
  const kind = CALL_KINDS[word & 0xff] ?? 'exec';
  const liveOutput = (word & LIVE_OUTPUT) !== 0;
  if ((word & WITH_STDIN) === 0) return { kind, code: text, liveOutput };
  const cut = text.indexOf('\n');
  const end = cut + 1 + Number(text.slice(0, cut));
  return { kind, code: text.slice(end), stdin: text.slice(cut + 1, end), liveOutput };
}

export type SetupMessage = GuestSetup | SandboxSetup | EvictSetup;

export type Outcome =
  | { kind: 'ok'; value: string | undefined }
  | { kind: 'guest-error'; message: string }
  /** The guest trapped; `atMemoryLimit` when its memory had grown to (nearly) the limit. */
  | { kind: 'trap'; message: string; atMemoryLimit: boolean }
  | { kind: 'exit'; message: string }
  /** The executor could not run the call at all (no such sandbox, instantiation failed). */
  | { kind: 'failed'; message: string };

export interface CallReply {
  outcome: Outcome;
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  durationMs: number;
  memoryBytes: number;
  /** The instance's state after the call, for whichever executor runs the next one. */
  state?: InstanceState;
  /** The scratch directory's metadata, when the call changed it. */
  scratch?: ScratchMeta;
}

export type ExecutorToHost =
  /** `threadId`: the thread's kernel id (Linux), for reading its CPU time (thread-cpu.ts). */
  { type: 'ready'; threadId: number | undefined } | { type: 'init-failed'; message: string };
