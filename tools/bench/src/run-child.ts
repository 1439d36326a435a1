/**
 * Runs one peer task in a fresh Node process (src/child.ts) so that one engine's heap, JIT state
 * and threads never pollute another's figures. Results come back over the IPC channel.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PeerName } from './types.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

/** `node src/bootstrap.mjs <module.ts>`: see bootstrap.mjs for why not `node --import tsx`. */
export function forkTs(module: string, options: Parameters<typeof fork>[2] = {}): ReturnType<typeof fork> {
  return fork(BOOTSTRAP, [module], options);
}

export interface ChildOptions {
  /** Killed (and the task failed) after this long. */
  timeoutMs?: number;
  /** Flags for node, e.g. a bigger heap (none by default). */
  execArgv?: string[];
  /** Pass the child's output through instead of keeping it for error messages. */
  verbose?: boolean;
}

export class ChildError extends Error {
  override name = 'ChildError';
}

export function runInChild<T>(peer: PeerName, task: string, params: unknown, options: ChildOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  return new Promise<T>((resolve, reject) => {
    const child = forkTs(CHILD, {
      execArgv: options.execArgv ?? [],
      stdio: options.verbose ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let settled = false;
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new ChildError(`${peer}.${task} did not finish within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    child.on('message', (message: { ok: boolean; result?: T; error?: string }) => {
      if (message.ok) finish(undefined, message.result);
      else finish(new ChildError(message.error ?? `${peer}.${task} failed`));
    });
    child.on('error', (error) => finish(error));
    child.on('exit', (code, signal) => {
      const tail = output.trim().split('\n').slice(-6).join('\n');
      finish(new ChildError(`${peer}.${task} exited (${signal ?? code}) without a result${tail ? `: ${tail}` : ''}`));
    });
    child.send({ peer, task, params });
  });
}
