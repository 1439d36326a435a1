/**
 * The host's handle on one executor thread: start it, hand it guests and sandboxes, send it a
 * call and wait for the reply (briefly synchronously, then asynchronously), wake its sleeps,
 * and discard it when a guest cannot be stopped any other way.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  HOST_CALL,
  IDLE,
  REPLY,
  REQUEST,
  channelEnd,
  createChannelBuffer,
  receive,
  send,
  setState,
  spinWhile,
  wake,
  state,
  type ChannelEnd,
} from '../call-channel.js';
import { GuestCrashedError } from '../errors.js';
import { decodeHostCall, messageOf, type HostAnswer, type HostCallAnswerer } from '../functions/protocol.js';
import { threadCpuClock } from './thread-cpu.js';
import { GUEST_THREAD_STACK_MB } from './guest-stack.js';
import { OUTPUT_CALL, WORD, type CallReply, type ExecutorToHost, type SetupMessage } from './executor-protocol.js';

const WORKER_URL = new URL('./executor-worker.js', import.meta.url);

/** V8 heap for the executor's own objects; guest memories live outside it. */
const RESOURCE_LIMITS = {
  maxOldGenerationSizeMb: 96,
  maxYoungGenerationSizeMb: 16,
  stackSizeMb: GUEST_THREAD_STACK_MB,
};

/** How long the caller blocks for a reply before it yields to its event loop. */
const SYNC_WAIT_MS = 0.2;
/** The quickest calls are answered within this; polling catches them without a wake-up. */
const REPLY_SPIN_MICROSECONDS = 40;
/**
 * Host calls to this thread that come in quick succession are answered synchronously, without
 * a trip through the event loop, for bursts of at most this long; between bursts the event loop
 * runs (the call's deadline timers with it). A function's promise is awaited on the event loop.
 */
const SYNC_HOST_CALLS_MS = 2;
/** After answering a host call, how long to poll for the guest's next one before sleeping. */
const HOST_CALL_SPIN_MICROSECONDS = 20;
/** What a host call left waiting when the guest's call is stopped receives. */
const INTERRUPTED =
  'the call reached its time limit (or was stopped) while this host function ran; its result was dropped';

/** Receives live output (stdout text, stderr text) while a call runs. */
export type OutputListener = (stdout: string, stderr: string) => void;

let nextExecutorId = 1;

export class Executor {
  readonly id = nextExecutorId++;
  /** Guests (by key) this executor has been given. */
  readonly guests = new Set<string>();
  /** Guests (by key) this executor has finished a call of: their code is compiled and warm. */
  readonly warmGuests = new Set<string>();
  /** For each sandbox this executor holds an instance of: the state version it holds. */
  readonly versions = new Map<number, number>();
  busy = false;
  private pending: { reject: (e: Error) => void } | undefined;
  private exitError: Error | undefined;
  /** The host call whose promise this thread awaits for the running guest call, if any. */
  private hostCall: symbol | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly channel: ChannelEnd,
    private readonly setupPort: MessagePort,
    /** The CPU time (ms) this thread has run, where the platform tells (thread-cpu.ts). */
    readonly cpuMs: (() => number | undefined) | undefined,
  ) {
    const fail = (error: Error) => {
      this.exitError ??= error;
      this.hostCall = undefined;
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
    const ready = new Promise<number | undefined>((resolve, reject) => {
      worker.once('message', (message: ExecutorToHost) => {
        if (message.type === 'ready') resolve(message.threadId);
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
    let threadId: number | undefined;
    try {
      threadId = await ready;
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    // An idle executor must not keep the process alive; a call in flight refs it again.
    worker.unref();
    calls.port1.unref();
    setup.port1.unref();
    return new Executor(worker, channelEnd(buffer, calls.port1), setup.port1, threadCpuClock(threadId));
  }

  /** True while the running call waits for a host function's promise on this thread. */
  get waitingOnHost(): boolean {
    return this.hostCall !== undefined;
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
    // A host function that has not settled must not hold the guest past its stop: the guest
    // gets an error now, and whatever the function settles with later is dropped.
    if (this.hostCall !== undefined) {
      this.hostCall = undefined;
      this.answer({ ok: false, message: INTERRUPTED });
    }
  }

  private answer(answer: HostAnswer): void {
    if (answer.ok) send(this.channel, REQUEST, 0, answer.json);
    else send(this.channel, REQUEST, 1, answer.message);
  }

  /**
   * Takes the host call in the slot and answers it, now when its function returned a value,
   * or when its promise settles (unless the guest's call was stopped meanwhile).
   */
  private startHostCall(answerer: HostCallAnswerer | undefined, onOutput: OutputListener | undefined): boolean {
    const { name, argumentsJson } = decodeHostCall(receive(this.channel).text);
    if (name === OUTPUT_CALL) {
      // Live output: handed over at once; a listener that throws changes nothing for the guest.
      try {
        const [stdout, stderr] = JSON.parse(argumentsJson) as [string, string];
        onOutput?.(stdout, stderr);
      } catch {
        // ignored: the listener's failure is the caller's own
      }
      this.answer({ ok: true, json: 'null' });
      return true;
    }
    let answer: HostAnswer | Promise<HostAnswer>;
    try {
      answer = answerer
        ? answerer(name, argumentsJson)
        : { ok: false, message: `this sandbox has no host function named ${JSON.stringify(name)}` };
    } catch (error) {
      answer = { ok: false, message: messageOf(error) };
    }
    if (!(answer instanceof Promise)) {
      this.answer(answer);
      return true;
    }
    const token = Symbol('host call');
    this.hostCall = token;
    void answer.then(
      (settled) => {
        if (this.hostCall !== token) return;
        this.hostCall = undefined;
        this.answer(settled);
      },
      () => undefined,
    );
    return false;
  }

  /**
   * Sends one call for sandbox `target`; the reply itself when it came within the sync wait.
   * Host calls the guest makes meanwhile are answered by `answerer`.
   */
  call(
    target: number,
    kind: number,
    code: string,
    answerer?: HostCallAnswerer,
    onOutput?: OutputListener,
  ): CallReply | Promise<CallReply> {
    if (this.exitError) throw this.exitError;
    if (this.pending || state(this.channel) !== IDLE) throw new Error('Executor.call: a call is already in flight');
    Atomics.store(this.channel.control, WORD.interrupt, 0);
    Atomics.store(this.channel.control, WORD.target, target);
    this.hostCall = undefined;
    send(this.channel, REQUEST, kind, code);
    // A wake-up alone proves nothing (a late notify for an earlier reply); only the state does.
    const started = performance.now();
    let deadline = started + SYNC_WAIT_MS;
    for (;;) {
      let current = spinWhile(this.channel, REQUEST, REPLY_SPIN_MICROSECONDS);
      for (let left = deadline - performance.now(); current === REQUEST && left > 0;) {
        Atomics.wait(this.channel.control, 0, REQUEST, left);
        current = state(this.channel);
        left = deadline - performance.now();
      }
      if (current === REPLY) return this.takeReply();
      if (current !== HOST_CALL) break;
      if (!this.startHostCall(answerer, onOutput)) break;
      // The guest goes on at once; keep answering here while host calls come quickly.
      deadline = Math.min(performance.now() + SYNC_WAIT_MS, started + SYNC_HOST_CALLS_MS);
      if (performance.now() >= deadline) break;
    }
    this.worker.ref();
    return new Promise<CallReply>((resolve, reject) => {
      this.pending = { reject };
      const step = () => {
        if (this.pending?.reject !== reject) return;
        // Host calls that come quickly are answered in one go, for at most a burst; then the
        // event loop gets its turn (the call's deadline timers run there).
        const burstEnd = performance.now() + SYNC_HOST_CALLS_MS;
        for (;;) {
          const current = state(this.channel);
          if (current === REPLY) {
            this.pending = undefined;
            try {
              resolve(this.takeReply());
            } catch (error) {
              reject(error as Error);
            }
            return;
          }
          if (current === HOST_CALL && this.hostCall === undefined) {
            if (performance.now() >= burstEnd) {
              setImmediate(step);
              return;
            }
            try {
              // Answered at once: the guest goes on, and its next host call may follow quickly.
              if (this.startHostCall(answerer, onOutput)) spinWhile(this.channel, REQUEST, HOST_CALL_SPIN_MICROSECONDS);
            } catch (error) {
              this.pending = undefined;
              reject(error as Error);
              return;
            }
            continue;
          }
          // Wakes when the slot leaves the state seen: a reply, a host call, or an answer.
          const waiting = Atomics.waitAsync(this.channel.control, 0, current);
          if (waiting.async) {
            void waiting.value.then(step);
            return;
          }
        }
      };
      step();
    }).finally(() => this.worker.unref());
  }

  private takeReply(): CallReply {
    this.hostCall = undefined;
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
