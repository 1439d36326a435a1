/**
 * The host's handle on one executor thread: start it, hand it guests and sandboxes, send it a
 * call and wait for the reply (briefly synchronously, then asynchronously), wake its sleeps,
 * and discard it when a guest cannot be stopped any other way.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  IDLE,
  REPLY,
  REQUEST,
  channelEnd,
  createChannelBuffer,
  receive,
  send,
  setState,
  spinFor,
  wake,
  state,
  type ChannelEnd,
} from '../call-channel.js';
import { GuestCrashedError } from '../errors.js';
import { WORD, type CallReply, type ExecutorToHost, type SetupMessage } from './executor-protocol.js';

const WORKER_URL = new URL('./executor-worker.js', import.meta.url);

/** V8 heap for the executor's own objects; guest memories live outside it. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 8 };

/** How long the caller blocks for a reply before it yields to its event loop. */
const SYNC_WAIT_MS = 0.2;
/** The quickest calls are answered within this; polling catches them without a wake-up. */
const REPLY_SPIN_MICROSECONDS = 40;

let nextExecutorId = 1;

export class Executor {
  readonly id = nextExecutorId++;
  /** Guests (by key) this executor has been given. */
  readonly guests = new Set<string>();
  /** For each sandbox this executor holds an instance of: the state version it holds. */
  readonly versions = new Map<number, number>();
  busy = false;
  private pending: { reject: (e: Error) => void } | undefined;
  private exitError: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly channel: ChannelEnd,
    private readonly setupPort: MessagePort,
  ) {
    const fail = (error: Error) => {
      this.exitError ??= error;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(this.exitError);
    };
    worker.on('error', (error) => fail(new GuestCrashedError(`an executor thread failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new GuestCrashedError(`an executor thread exited (code ${code})`)));
  }

  static async start(): Promise<Executor> {
    const worker = new Worker(WORKER_URL, {
      // Guests see no environment; neither does the thread that runs them.
      env: {},
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: RESOURCE_LIMITS,
    });
    const buffer = createChannelBuffer();
    const calls = new MessageChannel();
    const setup = new MessageChannel();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', (message: ExecutorToHost) => {
        if (message.type === 'ready') resolve();
        else reject(new GuestCrashedError(`an executor thread failed to start: ${message.message}`));
      });
      worker.once('error', (error) =>
        reject(new GuestCrashedError(`an executor thread failed to start: ${error.message}`)),
      );
      worker.once('exit', (code) =>
        reject(new GuestCrashedError(`an executor thread exited while starting (code ${code})`)),
      );
    });
    worker.postMessage({ channelBuffer: buffer, channelPort: calls.port2, setupPort: setup.port2 }, [
      calls.port2,
      setup.port2,
    ]);
    try {
      await ready;
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    // An idle executor must not keep the process alive; a call in flight refs it again.
    worker.unref();
    calls.port1.unref();
    setup.port1.unref();
    return new Executor(worker, channelEnd(buffer, calls.port1), setup.port1);
  }

  get alive(): boolean {
    return this.exitError === undefined;
  }

  /** True while the thread collects garbage: a call given to it now waits for that. */
  get collecting(): boolean {
    return Atomics.load(this.channel.control, WORD.collecting) !== 0;
  }

  /** Resolves once the thread is not collecting garbage. */
  async collected(): Promise<void> {
    while (this.collecting) {
      const waiting = Atomics.waitAsync(this.channel.control, WORD.collecting, 1);
      if (waiting.async) await waiting.value;
    }
  }

  /** Hands over a guest, a sandbox or an eviction; read before the executor's next call. */
  post(message: SetupMessage): void {
    this.setupPort.postMessage(message);
    Atomics.add(this.channel.control, WORD.setupPending, 1);
    // An idle executor applies an eviction at once, so that the sandbox's memory can be freed.
    if (message.type === 'evict') wake(this.channel);
  }

  /** Wakes the running call's sleeps and polls, and keeps them from sleeping again. */
  interrupt(): void {
    Atomics.store(this.channel.control, WORD.interrupt, 1);
    Atomics.notify(this.channel.control, WORD.interrupt);
  }

  /** Sends one call for sandbox `target`; the reply itself when it came within the sync wait. */
  call(target: number, kind: number, code: string): CallReply | Promise<CallReply> {
    if (this.exitError) throw this.exitError;
    if (this.pending || state(this.channel) !== IDLE) throw new Error('Executor.call: a call is already in flight');
    Atomics.store(this.channel.control, WORD.interrupt, 0);
    Atomics.store(this.channel.control, WORD.target, target);
    send(this.channel, REQUEST, kind, code);
    if (spinFor(this.channel, REPLY, REPLY_SPIN_MICROSECONDS)) return this.takeReply();
    // A wake-up alone proves nothing (a late notify for an earlier reply); only the state does.
    const deadline = performance.now() + SYNC_WAIT_MS;
    for (let left = SYNC_WAIT_MS; left > 0; left = deadline - performance.now()) {
      if (Atomics.wait(this.channel.control, 0, REQUEST, left) === 'timed-out') break;
      if (state(this.channel) === REPLY) return this.takeReply();
    }
    this.worker.ref();
    return new Promise<CallReply>((resolve, reject) => {
      this.pending = { reject };
      const settle = () => {
        if (this.pending?.reject !== reject) return;
        if (state(this.channel) !== REPLY) {
          waitForReply();
          return;
        }
        this.pending = undefined;
        try {
          resolve(this.takeReply());
        } catch (error) {
          reject(error as Error);
        }
      };
      const waitForReply = () => {
        const waiting = Atomics.waitAsync(this.channel.control, 0, REQUEST);
        if (waiting.async) void waiting.value.then(settle);
        else settle();
      };
      waitForReply();
    }).finally(() => this.worker.unref());
  }

  private takeReply(): CallReply {
    const { text } = receive(this.channel);
    setState(this.channel, IDLE);
    // Only a state holds bigints (i64 globals): a reviver on every key would cost more than the parse.
    const reply = JSON.parse(text) as CallReply;
    if (reply.state) reply.state.globals = reply.state.globals.map(bigintOf);
    return reply;
  }

  /** Stops the thread at once, even in the middle of a call; its instances are lost. */
  terminate(): Promise<number> {
    this.exitError ??= new GuestCrashedError('the executor thread was stopped');
    this.channel.port.close();
    this.setupPort.close();
    return this.worker.terminate();
  }
}

/** Globals of type i64 travel as `{ $bigint: "..." }` (executor-worker.ts). */
function bigintOf(value: unknown): number | bigint {
  if (value !== null && typeof value === 'object' && '$bigint' in value) {
    return BigInt((value as { $bigint: string }).$bigint);
  }
  return value as number;
}
