/**
 * Backpressure for sandbox work: at most `maxConcurrent` calls run at once; up to `maxQueued`
 * more wait, each for at most `queueTimeoutMs`; anything past that is refused at once with a
 * 429 that carries Retry-After. The queue is bounded in length and in time.
 */
import { ApiError } from './errors.js';

export interface RunLimiterOptions {
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number;
}

export type RejectReason = 'queue_full' | 'queue_timeout' | 'shutting_down';

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export class RunLimiter {
  #active = 0;
  readonly #waiting: Waiter[] = [];
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: RunLimiterOptions,
    private readonly onReject: (reason: RejectReason) => void = () => {},
  ) {}

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Seconds a refused client should wait: about one queue wait. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.queueTimeoutMs / 1000));
  }

  /** Runs `work` in a slot, waiting briefly for one; throws ApiError 429 (or 503 when closing). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  /** Refuses new work from now on; work already admitted (running or queued) goes on. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #refuse(reason: RejectReason, message: string): ApiError {
    this.onReject(reason);
    if (reason === 'shutting_down') return new ApiError(503, 'SHUTTING_DOWN', message);
    return new ApiError(429, 'TOO_MANY_RUNS', message, { 'Retry-After': String(this.retryAfterSeconds) });
  }

  #acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#refuse('shutting_down', 'the server is shutting down'));
    if (this.#active < this.options.maxConcurrent) {
      this.#active += 1;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.options.maxQueued) {
      return Promise.reject(
        this.#refuse(
          'queue_full',
          `the server is running ${this.#active} calls and ${this.#waiting.length} are waiting; try again shortly`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          reject(
            this.#refuse(
              'queue_timeout',
              `no free slot within ${this.options.queueTimeoutMs} ms (${this.#active} calls running); try again shortly`,
            ),
          );
          this.#checkIdle();
        }, this.options.queueTimeoutMs),
      };
      this.#waiting.push(waiter);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) {
      next.grant(); // the slot passes straight to the next waiter
    } else {
      this.#active -= 1;
      this.#checkIdle();
    }
  }

  #checkIdle(): void {
    if (this.#active === 0 && this.#waiting.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
