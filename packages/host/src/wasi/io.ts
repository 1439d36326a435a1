/**
 * wasi:io (poll, error, streams) for one sandbox. Streams are host objects with a pluggable
 * source or sink, so stdout/stderr capture and read-only file reads share one class each, as
 * the generated glue requires (it checks resources with `instanceof` against these classes).
 */

import { MAX_READ_BYTES, toSafeCount } from './numbers.js';
import type { ByteSourceState, ResourceState } from './state.js';
import { aboutToBlock } from './live-output.js';

/**
 * The word an executor's host sets when the running call must stop: sleeps wake up at once and
 * polls report every pollable ready, so a guest blocked in `time.sleep` reaches its next
 * interrupt check instead of sleeping past its deadline.
 */
let interruptWord: { array: Int32Array; index: number } | undefined;

/** Called once per executor thread (the word lives in its call channel). */
export function setSleepInterrupt(array: Int32Array, index: number): void {
  interruptWord = { array, index };
}

function interrupted(): boolean {
  return interruptWord !== undefined && Atomics.load(interruptWord.array, interruptWord.index) !== 0;
}

/** Blocks the thread without spinning; only used for guest sleeps (time.sleep). */
function sleepNanoseconds(nanoseconds: bigint): void {
  if (nanoseconds <= 0n || interrupted()) return;
  // Output printed before a sleep reaches a live caller before the sleep ends.
  aboutToBlock();
  if (interrupted()) return;
  // Round up: waking early would make poll report nothing ready, which guests treat as failure.
  const milliseconds = Number((nanoseconds + 999_999n) / 1_000_000n);
  if (interruptWord) Atomics.wait(interruptWord.array, interruptWord.index, 0, milliseconds);
  else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

export class Pollable {
  /** `deadline` in monotonic nanoseconds; undefined means always ready. */
  constructor(private readonly deadline?: bigint) {}

  ready(): boolean {
    return this.deadline === undefined || process.hrtime.bigint() >= this.deadline;
  }

  block(): void {
    if (this.deadline !== undefined) sleepNanoseconds(this.deadline - process.hrtime.bigint());
  }

  remainingNanoseconds(): bigint {
    return this.deadline === undefined ? 0n : this.deadline - process.hrtime.bigint();
  }

  /** Serialisation hook (binding/handles.ts): the deadline is all a pollable holds. */
  describe(): ResourceState {
    return { kind: 'pollable', deadline: this.deadline === undefined ? null : this.deadline.toString() };
  }

  static restore(state: { deadline: string | null }): Pollable {
    return new Pollable(state.deadline === null ? undefined : BigInt(state.deadline));
  }
}

export function poll(pollables: Pollable[]): Uint32Array {
  if (pollables.length === 0) throw new RangeError('poll needs at least one pollable');
  // poll must return at least one ready index: sleep until the soonest deadline has passed.
  let ready = readyIndices(pollables);
  while (ready.length === 0) {
    if (interrupted()) return Uint32Array.from(pollables.keys());
    const soonest = pollables.reduce((min, p) => {
      const left = p.remainingNanoseconds();
      return left < min ? left : min;
    }, pollables[0]!.remainingNanoseconds());
    sleepNanoseconds(soonest);
    ready = readyIndices(pollables);
  }
  return Uint32Array.from(ready);
}

function readyIndices(pollables: Pollable[]): number[] {
  return pollables.flatMap((p, i) => (p.ready() ? [i] : []));
}

export class IoError {
  constructor(readonly message: string) {}
  toDebugString(): string {
    return this.message;
  }
}

const STREAM_CLOSED = { tag: 'closed' } as const;

export interface ByteSource {
  /** Up to `length` bytes; an empty array means end of stream. */
  read(length: number): Uint8Array;
  close?(): void;
  /** Serialisation hook: sources that can be recreated elsewhere say how. */
  describe?(): ByteSourceState;
}

export class InputStream {
  constructor(private readonly source: ByteSource) {}

  read(length: bigint): Uint8Array {
    const chunk = this.source.read(toSafeCount(length, MAX_READ_BYTES));
    if (chunk.length === 0 && length > 0n) throw STREAM_CLOSED;
    return chunk;
  }

  blockingRead(length: bigint): Uint8Array {
    return this.read(length);
  }

  skip(length: bigint): bigint {
    return BigInt(this.read(length).length);
  }

  blockingSkip(length: bigint): bigint {
    return this.skip(length);
  }

  subscribe(): Pollable {
    return new Pollable();
  }

  /** Serialisation hook; undefined when the source cannot be recreated elsewhere. */
  describe(): ResourceState | undefined {
    const source = this.source.describe?.();
    return source && { kind: 'input-stream', source };
  }

  [Symbol.dispose](): void {
    this.source.close?.();
  }
}

export interface ByteSink {
  write(bytes: Uint8Array): void;
  close?(): void;
  /** Serialisation hook: sinks that can be recreated elsewhere (a scratch file) say how. */
  describe?(): ResourceState;
}

/** How much one write may carry; the guest splits larger writes itself. */
const WRITE_BUDGET = 1_048_576n;

export class OutputStream {
  constructor(private readonly sink: ByteSink) {}

  checkWrite(): bigint {
    return WRITE_BUDGET;
  }

  write(contents: Uint8Array): void {
    this.sink.write(contents);
  }

  blockingWriteAndFlush(contents: Uint8Array): void {
    this.sink.write(contents);
  }

  flush(): void {}

  blockingFlush(): void {}

  writeZeroes(length: bigint): void {
    // The contract caps a write at what check-write granted; honouring a bigger length would
    // allocate whatever the guest names on the host.
    if (length > WRITE_BUDGET) {
      throw { tag: 'last-operation-failed', val: new IoError(`write-zeroes of ${length} bytes exceeds check-write`) };
    }
    this.sink.write(new Uint8Array(Number(length)));
  }

  blockingWriteZeroesAndFlush(length: bigint): void {
    this.writeZeroes(length);
  }

  splice(source: InputStream, length: bigint): bigint {
    const chunk = source.read(length);
    this.sink.write(chunk);
    return BigInt(chunk.length);
  }

  blockingSplice(source: InputStream, length: bigint): bigint {
    return this.splice(source, length);
  }

  subscribe(): Pollable {
    return new Pollable();
  }

  /** Serialisation hook; undefined when the sink cannot be recreated elsewhere. */
  describe(): ResourceState | undefined {
    return this.sink.describe?.();
  }

  [Symbol.dispose](): void {
    this.sink.close?.();
  }
}

export const emptySource: ByteSource = { read: () => new Uint8Array(0) };
