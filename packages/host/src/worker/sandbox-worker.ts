/**
 * One sandbox's thread: instantiates the guest component with the host's WASI imports and
 * runs calls one at a time. A runaway call is stopped by the main thread terminating this
 * worker, so nothing here needs to watch the clock.
 */
import { parentPort } from 'node:worker_threads';
import type { SandboxExports } from '@component-sandbox/wit';
import {
  REPLY,
  REQUEST,
  channelEnd,
  receive,
  send as sendOnChannel,
  waitFor,
  type ChannelEnd,
} from '../call-channel.js';
import {
  CALL_KINDS,
  type CallKind,
  type HostToWorker,
  type InitMessage,
  type Outcome,
  type ResultMessage,
  type WorkerToHost,
} from '../protocol.js';
import { GuestExit, createWasiImports } from '../wasi/index.js';
import { OutputCapture, capMessage } from '../wasi/output-capture.js';

/** How long the worker polls for a follow-up call before it sleeps (see spinFor). */
const NEXT_CALL_SPIN_MICROSECONDS = 50;

/** A trap with memory this close to the limit is reported as running out of memory. */
const NEAR_LIMIT_FRACTION = 0.9;

const port = parentPort!;
const send = (message: WorkerToHost) => port.postMessage(message);

interface Running {
  exports: SandboxExports;
  stdout: OutputCapture;
  stderr: OutputCapture;
  memories: WebAssembly.Memory[];
  memoryLimitBytes: number;
  outputLimitBytes: number;
}

/** Refuses, by name, any interface the glue asks for that the host does not provide. */
function strictImports(imports: Record<string, Record<string, unknown>>) {
  return new Proxy(imports, {
    get(target, key) {
      if (typeof key === 'string' && !(key in target)) {
        throw new Error(`the guest imports ${key}, which this host does not provide`);
      }
      return target[key as string];
    },
  });
}

async function instantiate(init: InitMessage): Promise<Running> {
  const stdout = new OutputCapture(init.outputLimitBytes);
  const stderr = new OutputCapture(init.outputLimitBytes);
  const imports = createWasiImports({
    mounts: init.mounts,
    stdout,
    stderr,
    memoryLimitBytes: init.memoryLimitBytes,
  });
  const memories: WebAssembly.Memory[] = [];
  const glue = (await import(init.glueUrl)) as {
    instantiate: (
      getCoreModule: (file: string) => WebAssembly.Module,
      imports: object,
      instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
    ) => Promise<SandboxExports>;
  };
  const exports = await glue.instantiate(
    (file) => {
      const module = init.modules[file];
      if (!module) throw new Error(`the artifact has no core module ${file}`);
      return module;
    },
    strictImports(imports),
    (module, moduleImports) => {
      const instance = new WebAssembly.Instance(module, moduleImports);
      for (const value of Object.values(instance.exports)) {
        if (value instanceof WebAssembly.Memory) memories.push(value);
      }
      return instance;
    },
  );
  return {
    exports,
    stdout,
    stderr,
    memories,
    memoryLimitBytes: init.memoryLimitBytes,
    outputLimitBytes: init.outputLimitBytes,
  };
}

/** The guest's memory: the largest linear memory among its core instances. */
function memoryBytes(running: Running): number {
  return Math.max(0, ...running.memories.map((m) => m.buffer.byteLength));
}

function classify(running: Running, error: unknown): Exclude<Outcome, { kind: 'ok' }> {
  if (error instanceof GuestExit) return { kind: 'exit', message: error.message };
  // The guest's `err` string arrives thrown as-is, or wrapped in jco's ComponentError by glue
  // that was transpiled with default options.
  if (typeof error === 'string') return { kind: 'guest-error', message: error };
  if (error instanceof Error && 'payload' in error && typeof error.payload === 'string') {
    return { kind: 'guest-error', message: error.payload };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    kind: 'trap',
    message,
    atMemoryLimit: memoryBytes(running) >= running.memoryLimitBytes * NEAR_LIMIT_FRACTION,
  };
}

function runCall(running: Running, kind: CallKind, code: string): ResultMessage {
  running.stdout.take();
  running.stderr.take();
  const started = performance.now();
  let outcome: Outcome;
  try {
    const value = kind === 'eval' ? running.exports.eval(code) : running.exports.exec(code);
    outcome = { kind: 'ok', value: value ?? undefined };
  } catch (error) {
    const failure = classify(running, error);
    // An error's text is guest output too: one exception must not carry more than a print could.
    outcome = { ...failure, message: capMessage(failure.message, running.outputLimitBytes) };
  }
  const durationMs = performance.now() - started;
  const stdout = running.stdout.take();
  const stderr = running.stderr.take();
  return {
    outcome,
    stdout: stdout.text,
    stderr: stderr.text,
    outputTruncated: stdout.truncated || stderr.truncated,
    durationMs,
    memoryBytes: memoryBytes(running),
  };
}

/**
 * Serves calls for the rest of the worker's life. It blocks on the shared slot instead of
 * returning to the event loop: the slot is the only way calls arrive, and termination (the
 * time limit) interrupts a blocked wait as well as running guest code.
 */
function serve(running: Running, channel: ChannelEnd): never {
  for (;;) {
    waitFor(channel, REQUEST, NEXT_CALL_SPIN_MICROSECONDS);
    const { kind, text } = receive(channel);
    const result = runCall(running, CALL_KINDS[kind] ?? 'eval', text);
    sendOnChannel(channel, REPLY, 0, JSON.stringify(result));
  }
}

port.once('message', async (init: HostToWorker) => {
  if (init.type !== 'init') return;
  let running: Running;
  const started = performance.now();
  try {
    running = await instantiate(init);
  } catch (error) {
    send({ type: 'init-failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  send({ type: 'ready', instantiateMs: performance.now() - started });
  serve(running, channelEnd(init.channelBuffer, init.channelPort));
});
