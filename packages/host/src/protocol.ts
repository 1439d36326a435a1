/** Messages between a Sandbox (main thread) and its worker. */
import type { ReadOnlyMount } from './wasi/index.js';

export type CallKind = 'exec' | 'eval';

export interface InitMessage {
  type: 'init';
  glueUrl: string;
  modules: Record<string, WebAssembly.Module>;
  mounts: readonly ReadOnlyMount[];
  outputLimitBytes: number;
  memoryLimitBytes: number;
}

export interface CallMessage {
  type: 'call';
  id: number;
  kind: CallKind;
  code: string;
}

export type HostToWorker = InitMessage | CallMessage;

export type Outcome =
  | { kind: 'ok'; value: string | undefined }
  | { kind: 'guest-error'; message: string }
  /** The guest trapped; `atMemoryLimit` when its memory had grown to (nearly) the limit. */
  | { kind: 'trap'; message: string; atMemoryLimit: boolean }
  | { kind: 'exit'; message: string };

export interface ResultMessage {
  type: 'result';
  id: number;
  outcome: Outcome;
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  durationMs: number;
  /** Size of the guest's linear memory after the call. */
  memoryBytes: number;
}

export type WorkerToHost =
  | { type: 'ready'; instantiateMs: number }
  | { type: 'init-failed'; message: string }
  | ResultMessage;
