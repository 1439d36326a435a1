import { describe, expect, it } from 'vitest';
import { HARD_STOP_VALUE } from '../src/index.js';
import { WasmRewriteError } from '../src/wasm/binary.js';
import { insertLoopChecks } from '../src/wasm/loop-checks.js';

const ADDRESS = 16;

function section(id: number, payload: number[]): number[] {
  return [id, payload.length, ...payload];
}

/**
 * Two exported functions (i32) -> i32 counting their argument down to 0: `plain` with an empty
 * loop, `param` with a loop that takes and returns its counter (a multi-value block type).
 */
function countdownModule(): Uint8Array<ArrayBuffer> {
  const plain = [0x00, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b];
  const param = [0x00, 0x20, 0x00, 0x03, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x0b];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f]),
    ...section(3, [0x02, 0x00, 0x00]),
    ...section(5, [0x01, 0x00, 0x01]),
    ...section(7, [
      0x03,
      ...[0x05, ...Buffer.from('plain'), 0x00, 0x00],
      ...[0x05, ...Buffer.from('param'), 0x00, 0x01],
      ...[0x06, ...Buffer.from('memory'), 0x02, 0x00],
    ]),
    ...section(10, [0x02, plain.length, ...plain, param.length, ...param]),
  ]);
}

describe('the hard-stop loop checks', () => {
  it('trap every loop while the word holds the value, and only then', async () => {
    const original = countdownModule();
    expect(WebAssembly.validate(original)).toBe(true);
    const { bytes, loops, functions } = insertLoopChecks(original, { address: ADDRESS, value: HARD_STOP_VALUE });
    expect({ loops, functions }).toEqual({ loops: 2, functions: 2 });
    const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>);
    const { plain, param, memory } = instance.exports as {
      plain: (n: number) => number;
      param: (n: number) => number;
      memory: WebAssembly.Memory;
    };
    const words = new Int32Array(memory.buffer);
    expect([plain(1000), param(1000)]).toEqual([0, 0]);
    Atomics.store(words, ADDRESS / 4, HARD_STOP_VALUE | 0);
    expect(() => plain(1000)).toThrow(WebAssembly.RuntimeError);
    expect(() => param(1000)).toThrow(/unreachable/);
    // Other values, or the value in a neighbouring word, change nothing.
    Atomics.store(words, ADDRESS / 4, 1);
    Atomics.store(words, ADDRESS / 4 + 1, HARD_STOP_VALUE | 0);
    expect([plain(10), param(10)]).toEqual([0, 0]);
  });

  it('refuses what it cannot check safely', () => {
    expect(() => insertLoopChecks(countdownModule(), { address: 6, value: HARD_STOP_VALUE })).toThrow(WasmRewriteError);
    expect(() => insertLoopChecks(countdownModule(), { address: ADDRESS, value: 0 })).toThrow(/non-zero/);
    const unknownOpcode = countdownModule();
    unknownOpcode[unknownOpcode.length - 11] = 0xfb; // `param`'s i32.const becomes a GC instruction
    expect(() => insertLoopChecks(unknownOpcode, { address: ADDRESS, value: HARD_STOP_VALUE })).toThrow(/unsupported/);
  });
});
