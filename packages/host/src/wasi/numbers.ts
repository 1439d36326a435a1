/**
 * Guest-controlled integers arrive as u64 bigints; Node's APIs take numbers with narrower
 * ranges (file positions up to 2^53, buffer lengths up to about 2^32) and throw beyond them.
 * Every such value passes through here first, so a guest can never make a host call throw.
 */

/** Most bytes one read or one random-bytes call hands the guest; libc loops for more. */
export const MAX_READ_BYTES = 1024 * 1024;

/** `value` as a number no larger than `max` (a count: a short read or write is allowed). */
export function toSafeCount(value: bigint, max: number): number {
  return value > BigInt(max) ? max : Number(value);
}

/**
 * A file offset as a number, or undefined when it is beyond any file Node can read (2^53):
 * no such file exists, so a read there is at the end of the file.
 */
export function toSafeOffset(offset: bigint): number | undefined {
  return offset > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(offset);
}
