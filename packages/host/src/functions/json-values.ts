/**
 * How values cross between a guest and a host function: as JSON text, with one addition for
 * bytes. Both sides use the same mapping (the guests implement it in their own language):
 *
 *   guest value                          JSON                         host value
 *   None / null, undefined               null                         null
 *   bool, int, float / number, string    the same                     the same
 *   list, tuple / Array                  array                        Array
 *   dict (str keys) / plain object       object                       object
 *   bytes, bytearray / Uint8Array        {"$bytes": "<base64>"}       Uint8Array (a Buffer)
 *
 * Anything else (NaN, sets, class instances, BigInt, functions) is refused with a clear error.
 * The host reads a JSON object with exactly one key, `$bytes`, whose value is a string, as
 * bytes; every other object is a plain object.
 */

const BYTES_KEY = '$bytes';

function isBytesObject(value: unknown): value is { [BYTES_KEY]: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === BYTES_KEY && typeof (value as Record<string, unknown>)[BYTES_KEY] === 'string'
  );
}

function revive(_key: string, value: unknown): unknown {
  return isBytesObject(value) ? Buffer.from(value[BYTES_KEY], 'base64') : value;
}

/** Reads a JSON text from the guest (arguments, an array; or a result) into host values. */
export function fromGuestJson(text: string): unknown {
  // A reviver makes parsing several times slower: only for texts that may hold bytes.
  return text.includes('"$bytes"') ? JSON.parse(text, revive) : JSON.parse(text);
}

/**
 * JSON.stringify hands a replacer the value after `toJSON` (a Buffer arrives as
 * `{type: 'Buffer', data}`), so bytes are recognised on the holder, before that step.
 */
function replace(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array)
    return { [BYTES_KEY]: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
  if (original instanceof ArrayBuffer) return { [BYTES_KEY]: Buffer.from(original).toString('base64') };
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`${String(value)} has no JSON form`);
  }
  if (typeof value === 'bigint')
    throw new TypeError(`the BigInt ${value} has no JSON form; return a number or a string`);
  return value;
}

/** A host value as JSON for the guest: undefined (and functions, symbols) become null. */
export function toGuestJson(value: unknown): string {
  // Scalars, the common result, without the replacer's cost.
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${String(value)} has no JSON form`);
      return JSON.stringify(value);
  }
  if (value === null) return 'null';
  return JSON.stringify(value, replace) ?? 'null';
}
