/**
 * The call path between a sandbox and its worker: a SharedArrayBuffer holding one request or
 * one reply at a time, with Atomics for signalling, so a call costs two futex wake-ups instead
 * of two trips through each thread's event loop. Payloads too big for the buffer travel on a
 * MessagePort and are read synchronously (`receiveMessageOnPort`), so the worker never has to
 * return to its event loop.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** Slot states (control word 0). */
export const IDLE = 0;
export const REQUEST = 1;
export const REPLY = 2;
/** The worker asks the caller's thread to run a host function; the caller answers with REQUEST. */
export const HOST_CALL = 3;

/** Control words. */
const STATE = 0;
const KIND = 1;
const LENGTH = 2;
/** 1 when the payload went by MessagePort instead of the buffer. */
const VIA_PORT = 3;
/** Words 4-7 belong to the channel's user (see executor-protocol.ts). */
export const USER_WORDS = [4, 5, 6, 7] as const;
const CONTROL_BYTES = 32;

/** Buffer for code and replies; bigger payloads use the port. */
export const DEFAULT_PAYLOAD_BYTES = 256 * 1024;

export interface ChannelEnd {
  control: Int32Array;
  payload: Buffer;
  port: MessagePort;
}

export function createChannelBuffer(payloadBytes = DEFAULT_PAYLOAD_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + payloadBytes);
}

export function channelEnd(buffer: SharedArrayBuffer, port: MessagePort): ChannelEnd {
  return {
    control: new Int32Array(buffer, 0, CONTROL_BYTES / 4),
    payload: Buffer.from(buffer, CONTROL_BYTES),
    port,
  };
}

/** Writes `text` into the slot (or the port) and moves the slot to `state`, waking the peer. */
export function send(
  end: ChannelEnd,
  state: typeof REQUEST | typeof REPLY | typeof HOST_CALL,
  kind: number,
  text: string,
): void {
  const length = Buffer.byteLength(text, 'utf8');
  if (length <= end.payload.length) {
    end.payload.write(text, 0, length, 'utf8');
    end.control[VIA_PORT] = 0;
  } else {
    end.port.postMessage(text);
    end.control[VIA_PORT] = 1;
  }
  end.control[KIND] = kind;
  end.control[LENGTH] = length;
  Atomics.store(end.control, STATE, state);
  Atomics.notify(end.control, STATE);
}

/** Reads what the peer sent; call only once the slot is in the state the peer set. */
export function receive(end: ChannelEnd): { kind: number; text: string } {
  const kind = end.control[KIND]!;
  if (end.control[VIA_PORT] === 1) {
    const message = receiveMessageOnPort(end.port);
    if (!message) throw new Error('call channel: the payload announced on the port is missing');
    return { kind, text: message.message as string };
  }
  return { kind, text: end.payload.toString('utf8', 0, end.control[LENGTH]!) };
}

export function state(end: ChannelEnd): number {
  return Atomics.load(end.control, STATE);
}

export function setState(end: ChannelEnd, value: number): void {
  Atomics.store(end.control, STATE, value);
}

/** Wakes a thread sleeping on the slot without changing it (it re-reads what it waits for). */
export function wake(end: ChannelEnd): void {
  Atomics.notify(end.control, STATE);
}

/** Sleeps while the slot holds `value`: until it changes, a wake, or `timeoutMs`. */
export function sleepWhile(end: ChannelEnd, value: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
  return Atomics.wait(end.control, STATE, value, timeoutMs);
}

/**
 * Polls the slot for up to `microseconds` without sleeping. Back-to-back calls arrive (and
 * short calls finish) within a few microseconds, sooner than a futex wake-up would deliver
 * them; the bound keeps an idle thread from burning a core.
 */
export function spinFor(end: ChannelEnd, wanted: number, microseconds: number): boolean {
  const until = performance.now() + microseconds / 1000;
  do {
    if (Atomics.load(end.control, STATE) === wanted) return true;
  } while (performance.now() < until);
  return false;
}

/** Blocks this thread until the slot holds `wanted` (worker side: waiting for a request). */
export function waitFor(end: ChannelEnd, wanted: number, spinMicroseconds = 0): void {
  if (spinMicroseconds > 0 && spinFor(end, wanted, spinMicroseconds)) return;
  for (;;) {
    const current = Atomics.load(end.control, STATE);
    if (current === wanted) return;
    Atomics.wait(end.control, STATE, current);
  }
}

/** Polls while the slot holds `value`, for up to `microseconds`; returns the state it saw last. */
export function spinWhile(end: ChannelEnd, value: number, microseconds: number): number {
  const until = performance.now() + microseconds / 1000;
  for (;;) {
    const current = Atomics.load(end.control, STATE);
    if (current !== value || performance.now() >= until) return current;
  }
}

/** Blocks this thread while the slot holds `value`, polling first; returns the new state. */
export function waitWhile(end: ChannelEnd, value: number, spinMicroseconds = 0): number {
  const polled = spinWhile(end, value, spinMicroseconds);
  if (polled !== value) return polled;
  for (;;) {
    Atomics.wait(end.control, STATE, value);
    const current = Atomics.load(end.control, STATE);
    if (current !== value) return current;
  }
}
