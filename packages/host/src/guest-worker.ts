/**
 * The main thread's handle on one sandbox worker: start it, send it calls, stop it. Knows
 * nothing of queues or limits beyond delivering a call and its reply.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
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
  state,
  type ChannelEnd,
} from './call-channel.js';
import { GuestCrashedError } from './errors.js';
import type { LoadedGuest } from './guest.js';
import { CALL_KINDS, type CallKind, type ResultMessage, type WorkerToHost } from './protocol.js';

const WORKER_URL = new URL('./worker/sandbox-worker.js', import.meta.url);

/** V8 heap for the glue code of one guest; guest memory lives outside it, in linear memory. */
const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 8 };

/**
 * How long the main thread blocks waiting for a reply before it yields to its event loop.
 * Most calls (an eval of a small expression) finish well within it, and blocking saves the
 * event-loop round trip; longer calls wait asynchronously, so the host stays responsive.
 */
const SYNC_WAIT_MS = 0.2;

/** The quickest calls are answered within this; polling catches them without a wake-up. */
const REPLY_SPIN_MICROSECONDS = 40;

export class GuestWorker {
  private readonly worker: Worker;
  private readonly channel: ChannelEnd;
  private pending: { reject: (e: Error) => void } | undefined;
  private exitError: Error | undefined;

  private constructor(worker: Worker, channel: ChannelEnd) {
    this.worker = worker;
    this.channel = channel;
    const fail = (error: Error) => {
      this.exitError ??= error;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(this.exitError);
    };
    worker.on('error', (error) => fail(new GuestCrashedError(`the sandbox worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new GuestCrashedError(`the sandbox worker exited (code ${code})`)));
  }

  static async start(
    guest: LoadedGuest,
    modules: Map<string, WebAssembly.Module>,
    init: { outputLimitBytes: number; memoryLimitBytes: number },
  ): Promise<{ worker: GuestWorker; instantiateMs: number }> {
    const worker = new Worker(WORKER_URL, {
      // The guest sees no environment anyway; the worker's own process.env stays empty too,
      // and its stdio never reaches the host's.
      env: {},
      // The host's own Node flags (--input-type, loaders, inspectors) mean nothing to a
      // sandbox worker and some stop it from starting.
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
    const ready = new Promise<number>((resolve, reject) => {
      const onMessage = (message: WorkerToHost) => {
        if (message.type === 'ready') resolve(message.instantiateMs);
        else reject(new GuestCrashedError(`the guest failed to start: ${message.message}`));
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', (error) =>
        reject(new GuestCrashedError(`the sandbox worker failed to start: ${error.message}`)),
      );
      worker.once('exit', (code) =>
        reject(new GuestCrashedError(`the sandbox worker exited while starting (code ${code})`)),
      );
    });
    const buffer = createChannelBuffer();
    const { port1, port2 } = new MessageChannel();
    worker.postMessage(
      {
        type: 'init',
        channelBuffer: buffer,
        channelPort: port2,
        glueUrl: guest.glueUrl,
        modules: Object.fromEntries(modules),
        mounts: guest.mounts,
        outputLimitBytes: init.outputLimitBytes,
        memoryLimitBytes: init.memoryLimitBytes,
      },
      [port2],
    );
    try {
      const instantiateMs = await ready;
      // An idle sandbox must not keep the process alive (calls in flight ref it again).
      worker.unref();
      port1.unref();
      return { worker: new GuestWorker(worker, channelEnd(buffer, port1)), instantiateMs };
    } catch (error) {
      port1.close();
      await worker.terminate();
      throw error;
    }
  }

  /**
   * Sends one call. Returns the reply itself when it arrives within the brief synchronous wait,
   * else a promise of it; throws when the worker is gone or busy.
   */
  call(kind: CallKind, code: string): ResultMessage | Promise<ResultMessage> {
    if (this.exitError) throw this.exitError;
    if (this.pending || state(this.channel) !== IDLE) {
      throw new Error('GuestWorker.call: a call is already in flight');
    }
    send(this.channel, REQUEST, CALL_KINDS.indexOf(kind), code);
    if (spinFor(this.channel, REPLY, REPLY_SPIN_MICROSECONDS)) return this.takeReply();
    // A wake-up alone proves nothing: the worker's notify for the previous reply may land late,
    // after that reply was already read. Only the slot's state says a reply is there.
    const deadline = performance.now() + SYNC_WAIT_MS;
    for (let left = SYNC_WAIT_MS; left > 0; left = deadline - performance.now()) {
      if (Atomics.wait(this.channel.control, 0, REQUEST, left) === 'timed-out') break;
      if (state(this.channel) === REPLY) return this.takeReply();
    }
    // The worker is unref'd while idle; a call in flight must keep the process alive.
    this.worker.ref();
    return new Promise<ResultMessage>((resolve, reject) => {
      this.pending = { reject };
      const settle = () => {
        // A terminated worker never replies; `fail` has rejected the call already.
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

  private takeReply(): ResultMessage {
    const { text } = receive(this.channel);
    setState(this.channel, IDLE);
    return JSON.parse(text) as ResultMessage;
  }

  /** Stops the worker at once, even in the middle of a runaway call. */
  terminate(): Promise<number> {
    this.exitError ??= new GuestCrashedError('the sandbox worker was stopped');
    this.channel.port.close();
    return this.worker.terminate();
  }
}
