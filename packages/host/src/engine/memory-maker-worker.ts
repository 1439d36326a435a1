/**
 * The memory maker thread: makes fresh guest memories (a shared WebAssembly.Memory holding the
 * guest's base image) and posts them to the host's thread. Writing a base image is mostly page
 * faults (several ms for a Python guest); here they cost neither the caller's event loop nor
 * the latency of a call.
 */
import { parentPort } from 'node:worker_threads';
import { collectGarbage } from './garbage.js';
import type { MakerReply, MakerRequest } from './memory-maker-protocol.js';

const images = new Map<string, { initialPages: number; runs: Array<{ offset: number; bytes: Uint8Array }> }>();

const port = parentPort!;
port.on('message', (request: MakerRequest) => {
  if (request.type === 'image') {
    images.set(request.imageKey, { initialPages: request.initialPages, runs: request.runs });
    return;
  }
  const image = images.get(request.imageKey);
  if (!image) return;
  for (let i = 0; i < request.count; i += 1) {
    const memory = new WebAssembly.Memory({ initial: image.initialPages, maximum: request.maxPages, shared: true });
    const view = new Uint8Array(memory.buffer);
    for (const run of image.runs) view.set(run.bytes, run.offset);
    port.postMessage({ stockKey: request.stockKey, memory } satisfies MakerReply);
  }
  // This thread's references would keep every memory it made alive until its next collection,
  // and it allocates too little to collect by itself.
  collectGarbage();
});
