/**
 * Test support: another thread that writes interrupt words into a guest's shared memory while
 * this thread is blocked inside a guest call, and says when it wrote them.
 */
import { Worker } from 'node:worker_threads';

export interface WordWrite {
  /** `store` replaces the word; `or` sets bits in it (Atomics.or), as for the eval breaker. */
  op: 'store' | 'or';
  address: number;
  value: number;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { buffer, control, writes, delayMs } = workerData;
const words = new Int32Array(buffer);
const ctl = new Int32Array(control);
parentPort.postMessage({ ready: true });
Atomics.wait(ctl, 0, 0);
Atomics.wait(ctl, 1, 0, delayMs);
const wroteAt = performance.timeOrigin + performance.now();
for (const w of writes) {
  if (w.op === 'or') Atomics.or(words, w.address / 4, w.value | 0);
  else Atomics.store(words, w.address / 4, w.value | 0);
}
parentPort.postMessage({ wroteAt });
`;

export interface ArmedStopper {
  /** Starts the delay; call right before the blocking guest call. */
  go(): void;
  /** When (epoch ms, sub-ms precision) the writes were done. */
  wroteAt: Promise<number>;
}

export async function armStopper(
  memory: WebAssembly.Memory,
  writes: WordWrite[],
  delayMs: number,
): Promise<ArmedStopper> {
  const control = new SharedArrayBuffer(8);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { buffer: memory.buffer, control, writes, delayMs },
  });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const wroteAt = new Promise<number>((resolve, reject) => {
    worker.on('message', (message: { wroteAt?: number }) => {
      if (message.wroteAt !== undefined) {
        resolve(message.wroteAt);
        void worker.terminate();
      }
    });
    worker.once('error', reject);
  });
  await ready;
  return {
    go() {
      const ctl = new Int32Array(control);
      Atomics.store(ctl, 0, 1);
      Atomics.notify(ctl, 0);
    },
    wroteAt,
  };
}

export const now = (): number => performance.timeOrigin + performance.now();
