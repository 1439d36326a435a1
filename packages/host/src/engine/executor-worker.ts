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
import { setSleepInterrupt } from '../wasi/index.js';
import {
  WORD,
  decodeRequest,
  OUTPUT_CALL,
  type CallReply,
  type ExecutorToHost,
  type GuestSetup,
  type SandboxSetup,
  type SetupMessage,
} from './executor-protocol.js';
import { ownThreadId } from './thread-cpu.js';
import { instantiateGuest, type GuestInstance } from './guest-instance.js';
import { callInstance, endsInstance } from './instance-call.js';
import { awaitCall, noteEviction } from './executor-idle.js';

/** How long the executor polls for a follow-up call before it sleeps. */
const NEXT_CALL_SPIN_MICROSECONDS = 50;
/** How long a host call polls for the caller's answer before it sleeps (a sync closure answers sooner). */
const HOST_ANSWER_SPIN_MICROSECONDS = 50;

interface Served {
  setup: SandboxSetup;
  instance?: GuestInstance;
  /** Calls this executor's instance has seen; equal to setup.version while it is current. */
  instanceVersion: number;
  /** The state this instance last reported, as JSON: an unchanged state is not sent again. */
  stateJson?: string;
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
      served.stateJson = undefined;
    } catch (error) {
      served.instance = undefined;
      const message = error instanceof Error ? error.message : String(error);
      return { outcome: { kind: 'failed', message: `the guest failed to start: ${message}` }, ...nothing };
    }
  }
  const instance = served.instance;
  const { kind, code, stdin, liveOutput } = decodeRequest(kindWord, text);
  const { outcome, ...rest } = callInstance(instance, setup, {
    kind,
    code,
    stdin,
    onLiveOutput: liveOutput ? (out, err) => hop(OUTPUT_CALL, JSON.stringify([out, err])) : undefined,
  });
  let state;
  let scratch;
  if (endsInstance(outcome)) {
    // A trapped instance cannot be trusted to continue; the sandbox is dead.
    sandboxes.delete(id);
  } else {
    state = instance.saveState();
    // Most calls leave the globals and handle tables as they found them (the stack pointer is
    // back where it was): the host keeps what it has, and the reply stays small.
    const stateJson = JSON.stringify(state, bigintReplacer);
    if (stateJson === served.stateJson) state = undefined;
    else served.stateJson = stateJson;
    scratch = instance.changedScratch();
    setup.version += 1;
    served.instanceVersion = setup.version;
  }
  return { outcome, ...rest, state, ...(scratch ? { scratch } : {}) };
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
    const functions = sandboxes.get(Atomics.load(channel.control, WORD.target))?.setup.functions;
    if (needsFunctionsModule(functions)) await loadFunctionsModule(functions);
    const { kind, text } = receive(channel);
    const reply = runCall(Atomics.load(channel.control, WORD.target), kind, text);
    // Only a state holds bigints (globals): without one, no replacer runs on every key.
    send(channel, REPLY, 0, reply.state ? JSON.stringify(reply, bigintReplacer) : JSON.stringify(reply));
  }
}

/** Globals of type i64 are bigints; JSON carries them as tagged strings. */
function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
}

const port = parentPort!;
port.once('message', (init: { channelBuffer: SharedArrayBuffer; channelPort: MessagePort; setupPort: MessagePort }) => {
  const channel = channelEnd(init.channelBuffer, init.channelPort);
  port.postMessage({ type: 'ready', threadId: ownThreadId() } satisfies ExecutorToHost);
  void serve(channel, init.setupPort);
});
