/**
 * One host function called with a guest's arguments, the same wherever it runs (an executor
 * for a functions module's sync functions, the caller's thread for closures): JSON in, JSON
 * out, and every failure an answer the guest raises as `HostError`, never a throw.
 */
import { fromGuestJson, toGuestJson } from './json-values.js';
import { messageOf, type HostAnswer } from './protocol.js';

/** The answer, or the promise the function returned (where it may be awaited is the caller's call). */
export type Invoked = { answer: HostAnswer } | { pending: PromiseLike<unknown> };

export function invokeHostFunction(name: string, fn: (...args: unknown[]) => unknown, argumentsJson: string): Invoked {
  let args: unknown[];
  try {
    args = fromGuestJson(argumentsJson) as unknown[];
  } catch (error) {
    return { answer: { ok: false, message: `the arguments of ${name} are not valid JSON: ${messageOf(error)}` } };
  }
  let value: unknown;
  try {
    value = fn(...args);
  } catch (error) {
    return { answer: { ok: false, message: messageOf(error) } };
  }
  if (typeof (value as PromiseLike<unknown> | null)?.then === 'function')
    return { pending: value as PromiseLike<unknown> };
  return { answer: encodeHostResult(name, value) };
}

/** What `name` returned, as the guest receives it. */
export function encodeHostResult(name: string, value: unknown): HostAnswer {
  try {
    return { ok: true, json: toGuestJson(value) };
  } catch (error) {
    return { ok: false, message: `the result of ${name} cannot be sent to the guest: ${messageOf(error)}` };
  }
}
