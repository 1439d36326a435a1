/** Messages between a Sandbox (main thread) and its worker. */
import type { ReadOnlyMount } from './wasi/index.js';

export type CallKind = 'exec' | 'eval';

export interface InitMessage {
  type: 'init';
  /** Shared slot for calls and replies (see call-channel.ts). */
  channelBuffer: SharedArrayBuffer;
  /** Port for payloads too big for the shared slot. */
  channelPort: import('node:worker_threads').MessagePort;
  glueUrl: string;
  modules: Record<string, WebAssembly.Module>;
  mounts: readonly ReadOnlyMount[];
  outputLimitBytes: number;
  memoryLimitBytes: number;
}

/** Call kinds as numbers in the shared slot. */
export const CALL_KINDS: readonly CallKind[] = ['exec', 'eval'];

export type HostToWorker = InitMessage;

export type Outcome =
  | { kind: 'ok'; value: string | undefined }
  | { kind: 'guest-error'; message: string }
  /** The guest trapped; `atMemoryLimit` when its memory had grown to (nearly) the limit. */
  | { kind: 'trap'; message: string; atMemoryLimit: boolean }
  | { kind: 'exit'; message: string };

export interface ResultMessage {
  outcome: Outcome;
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  durationMs: number;
  /** Size of the guest's linear memory after the call. */
  memoryBytes: number;
}

export type WorkerToHost = { type: 'ready'; instantiateMs: number } | { type: 'init-failed'; message: string };
