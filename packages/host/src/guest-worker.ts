/**
 * The main thread's handle on one sandbox worker: start it, send it calls, stop it. Knows
 * nothing of queues or limits beyond delivering a call and its reply.
 */
import { Worker } from 'node:worker_threads';
import { GuestCrashedError } from './errors.js';
import type { LoadedGuest } from './guest.js';
import type { CallKind, ResultMessage, WorkerToHost } from './protocol.js';

const WORKER_URL = new URL('./worker/sandbox-worker.js', import.meta.url);

/** V8 heap for the glue code of one guest; guest memory lives outside it, in linear memory. */
const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 8 };

export class GuestWorker {
  private readonly worker: Worker;
  private pending: { id: number; resolve: (r: ResultMessage) => void; reject: (e: Error) => void } | undefined;
  private nextId = 1;
  private exitError: Error | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (message: WorkerToHost) => {
      if (message.type === 'result' && this.pending?.id === message.id) {
        const { resolve } = this.pending;
        this.pending = undefined;
        resolve(message);
      }
    });
    const fail = (error: Error) => {
      this.exitError ??= error;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(this.exitError);
    };
    worker.on('error', (error) => fail(new GuestCrashedError(`the sandbox worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new GuestCrashedError(`the sandbox worker exited (code ${code})`)));
  }

  static async start(guest: LoadedGuest, modules: Map<string, WebAssembly.Module>, init: {
    outputLimitBytes: number;
    memoryLimitBytes: number;
  }): Promise<{ worker: GuestWorker; instantiateMs: number }> {
    const worker = new Worker(WORKER_URL, {
      // The guest sees no environment anyway; the worker's own process.env stays empty too,
      // and its stdio never reaches the host's.
      env: {},
      stdout: true,
      stderr: true,
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
    const ready = new Promise<number>((resolve, reject) => {
      const onMessage = (message: WorkerToHost) => {
        if (message.type === 'ready') resolve(message.instantiateMs);
        else if (message.type === 'init-failed') reject(new GuestCrashedError(`the guest failed to start: ${message.message}`));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', (error) => reject(new GuestCrashedError(`the sandbox worker failed to start: ${error.message}`)));
      worker.once('exit', (code) => reject(new GuestCrashedError(`the sandbox worker exited while starting (code ${code})`)));
    });
    worker.postMessage({
      type: 'init',
      glueUrl: guest.glueUrl,
      modules: Object.fromEntries(modules),
      mounts: guest.mounts,
      outputLimitBytes: init.outputLimitBytes,
      memoryLimitBytes: init.memoryLimitBytes,
    });
    try {
      const instantiateMs = await ready;
      return { worker: new GuestWorker(worker), instantiateMs };
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  call(kind: CallKind, code: string): Promise<ResultMessage> {
    if (this.exitError) return Promise.reject(this.exitError);
    if (this.pending) return Promise.reject(new Error('GuestWorker.call: a call is already in flight'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.worker.postMessage({ type: 'call', id, kind, code });
    });
  }

  /** Stops the worker at once, even in the middle of a runaway call. */
  terminate(): Promise<number> {
    this.exitError ??= new GuestCrashedError('the sandbox worker was stopped');
    return this.worker.terminate();
  }
}
