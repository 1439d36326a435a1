/**
 * An executor thread: runs the calls of many sandboxes, one at a time. It holds an instance
 * per sandbox it has served, over that sandbox's host-owned memory, and rebuilds it whenever
 * another executor ran the sandbox since (the state version moved on). Calls arrive through
 * the shared slot; it blocks there instead of returning to its event loop.
 */
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { HOST_CALL, REPLY, channelEnd, receive, send, waitWhile, type ChannelEnd } from '../call-channel.js';
import { loadFunctionsModule, needsFunctionsModule, type CallerHop } from '../functions/executor-calls.js';
import { encodeHostCall } from '../functions/protocol.js';
import { GuestExit, setSleepInterrupt } from '../wasi/index.js';
import { capMessage } from '../wasi/output-capture.js';
import { beginLiveOutput, endLiveOutput } from '../wasi/live-output.js';
import {
  WORD,
  decodeRequest,
  OUTPUT_CALL,
  type CallReply,
  type ExecutorToHost,
  type GuestSetup,
  type Outcome,
  type SandboxSetup,
  type SetupMessage,
} from './executor-protocol.js';
import { instantiateGuest, type GuestInstance } from './guest-instance.js';
import { awaitCall, collectIfOverdue, noteEviction } from './executor-idle.js';

/** How long the executor polls for a follow-up call before it sleeps. */
const NEXT_CALL_SPIN_MICROSECONDS = 50;
/** How long a host call polls for the caller's answer before it sleeps (a sync closure answers sooner). */
const HOST_ANSWER_SPIN_MICROSECONDS = 50;
/** A trap with memory this close to the limit is reported as running out of memory. */
const NEAR_LIMIT_FRACTION = 0.9;

interface Served {
  setup: SandboxSetup;
  instance?: GuestInstance;
  /** Calls this executor's instance has seen; equal to setup.version while it is current. */
  instanceVersion: number;
}

const guests = new Map<string, GuestSetup>();
const sandboxes = new Map<number, Served>();

function applySetup(message: SetupMessage): void {
  switch (message.type) {
    case 'guest':
      guests.set(message.guestKey, message);
      break;
    case 'sandbox': {
      const served = sandboxes.get(message.id);
      if (served && served.setup.memory === message.memory && served.instanceVersion === message.version) {
        served.setup = message;
      } else {
        sandboxes.set(message.id, { setup: message, instanceVersion: -1 });
      }
      break;
    }
    case 'evict': {
      const served = sandboxes.get(message.id);
      sandboxes.delete(message.id);
      if (served?.instance) noteEviction(served.setup.memory.buffer.byteLength);
      break;
    }
  }
}

function drainSetup(channel: ChannelEnd, setupPort: MessagePort): void {
  while (Atomics.load(channel.control, WORD.setupPending) > 0) {
    const message = receiveMessageOnPort(setupPort);
    if (!message) break;
    applySetup(message.message as SetupMessage);
    Atomics.sub(channel.control, WORD.setupPending, 1);
  }
}

function memoryBytes(setup: SandboxSetup): number {
  return setup.memory.buffer.byteLength;
}

function classify(setup: SandboxSetup, error: unknown): Exclude<Outcome, { kind: 'ok' }> {
  if (error instanceof GuestExit) return { kind: 'exit', message: error.message };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { kind: 'trap', message, atMemoryLimit: memoryBytes(setup) >= setup.memoryLimitBytes * NEAR_LIMIT_FRACTION };
}

/** A host call the caller's thread answers: the executor blocks until it does. */
function hopTo(channel: ChannelEnd): CallerHop {
  return (name, argumentsJson) => {
    send(channel, HOST_CALL, 0, encodeHostCall(name, argumentsJson));
    waitWhile(channel, HOST_CALL, HOST_ANSWER_SPIN_MICROSECONDS);
    const { kind, text } = receive(channel);
    return kind === 0 ? { ok: true, json: text } : { ok: false, message: text };
  };
}

let hop: CallerHop;

/** A cell on a guest built for world `sandbox`, which has no `run` (the host refuses it first). */
const NO_RUN = {
  ok: false,
  error: 'TypeError: this guest was built for world sandbox, which has no cells (run)',
} as const;

function runCall(id: number, kindWord: number, text: string): CallReply {
  const served = sandboxes.get(id);
  const nothing = { stdout: '', stderr: '', outputTruncated: false, durationMs: 0, memoryBytes: 0 };
  if (!served) return { outcome: { kind: 'failed', message: `executor: unknown sandbox ${id}` }, ...nothing };
  const { setup } = served;
  if (!served.instance || served.instanceVersion !== setup.version) {
    const guest = guests.get(setup.guestKey);
    if (!guest)
      return { outcome: { kind: 'failed', message: `executor: unknown guest ${setup.guestKey}` }, ...nothing };
    try {
      served.instance = instantiateGuest(guest, setup, hop);
    } catch (error) {
      served.instance = undefined;
      const message = error instanceof Error ? error.message : String(error);
      return { outcome: { kind: 'failed', message: `the guest failed to start: ${message}` }, ...nothing };
    }
  }
  const instance = served.instance;
  const { kind, code, stdin, liveOutput } = decodeRequest(kindWord, text);
  instance.stdout.take();
  instance.stderr.take();
  if (liveOutput) {
    instance.stdout.live(true);
    instance.stderr.live(true);
    beginLiveOutput(() => {
      const out = instance.stdout.fresh();
      const err = instance.stderr.fresh();
      if (out !== '' || err !== '') hop(OUTPUT_CALL, JSON.stringify([out, err]));
    });
  }
  instance.stdin.set(stdin);
  instance.hostCalls.begin();
  const started = performance.now();
  let outcome: Outcome;
  try {
    const { binding } = instance;
    const result =
      kind === 'eval' ? binding.eval(code) : kind === 'run' ? (binding.run?.(code) ?? NO_RUN) : binding.exec(code);
    // An error's text is guest output too: one exception must not carry more than a print could.
    if (!result.ok) outcome = { kind: 'guest-error', message: capMessage(result.error, setup.outputLimitBytes) };
    else outcome = { kind: 'ok', value: 'value' in result ? (result.value as string) : undefined };
  } catch (error) {
    const failure = classify(setup, error);
    outcome =
      failure.kind === 'failed'
        ? failure
        : { ...failure, message: capMessage(failure.message, setup.outputLimitBytes) };
  }
  const durationMs = performance.now() - started;
  instance.stdin.set(undefined);
  // What live output did not send yet, the caller takes from the reply.
  endLiveOutput();
  const stdout = instance.stdout.take();
  const stderr = instance.stderr.take();
  instance.stdout.live(false);
  instance.stderr.live(false);
  let state;
  let scratch;
  if (outcome.kind === 'trap' || outcome.kind === 'exit') {
    // A trapped instance cannot be trusted to continue; the sandbox is dead.
    sandboxes.delete(id);
  } else {
    state = instance.saveState();
    scratch = instance.changedScratch();
    setup.version += 1;
    served.instanceVersion = setup.version;
  }
  return {
    outcome,
    stdout: stdout.text,
    stderr: stderr.text,
    outputTruncated: stdout.truncated || stderr.truncated,
    durationMs,
    memoryBytes: memoryBytes(setup),
    state,
    ...(scratch ? { scratch } : {}),
  };
}

/**
 * Serves calls forever. It blocks in the slot between calls and returns to its event loop only
 * to import a sandbox's functions module (once per module and thread).
 */
async function serve(channel: ChannelEnd, setupPort: MessagePort): Promise<never> {
  setSleepInterrupt(channel.control, WORD.interrupt);
  hop = hopTo(channel);
  for (;;) {
    awaitCall(channel, NEXT_CALL_SPIN_MICROSECONDS, () => drainSetup(channel, setupPort));
    drainSetup(channel, setupPort);
    collectIfOverdue(channel);
    const functions = sandboxes.get(Atomics.load(channel.control, WORD.target))?.setup.functions;
    if (needsFunctionsModule(functions)) await loadFunctionsModule(functions);
    const { kind, text } = receive(channel);
    const reply = runCall(Atomics.load(channel.control, WORD.target), kind, text);
    send(channel, REPLY, 0, JSON.stringify(reply, bigintReplacer));
  }
}

/** Globals of type i64 are bigints; JSON carries them as tagged strings. */
function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
}

const port = parentPort!;
port.once('message', (init: { channelBuffer: SharedArrayBuffer; channelPort: MessagePort; setupPort: MessagePort }) => {
  const channel = channelEnd(init.channelBuffer, init.channelPort);
  port.postMessage({ type: 'ready' } satisfies ExecutorToHost);
  void serve(channel, init.setupPort);
});
