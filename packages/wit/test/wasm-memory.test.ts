import { describe, expect, it } from 'vitest';
import { WASM_PAGE_BYTES, WasmFormatError, readDefinedMemories, withMemoryMaximum } from '../src/wasm-memory.js';

/** A module that defines (and exports as "memory") one memory with the given limits. */
function moduleWithMemory(initialPages: number, maximumPages?: number): Uint8Array<ArrayBuffer> {
  const limits = maximumPages === undefined ? [0x00, initialPages] : [0x01, initialPages, maximumPages];
  const memorySection = [0x05, limits.length + 1, 0x01, ...limits];
  const exportName = [...new TextEncoder().encode('memory')];
  const exportSection = [0x07, exportName.length + 4, 0x01, exportName.length, ...exportName, 0x02, 0x00];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...memorySection, ...exportSection]);
}

function instantiateMemory(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Memory {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return instance.exports.memory as WebAssembly.Memory;
}

describe('memory limits of a core module', () => {
  it('reads the initial and maximum pages of defined memories', () => {
    expect(readDefinedMemories(moduleWithMemory(3))).toEqual([{ initialPages: 3, maximumPages: undefined }]);
    expect(readDefinedMemories(moduleWithMemory(3, 9))).toEqual([{ initialPages: 3, maximumPages: 9 }]);
  });

  it('sets a maximum that the engine enforces exactly to the page', () => {
    const limited = withMemoryMaximum(moduleWithMemory(2), 5);
    expect(readDefinedMemories(limited)).toEqual([{ initialPages: 2, maximumPages: 5 }]);
    const memory = instantiateMemory(limited);
    expect(memory.buffer.byteLength).toBe(2 * WASM_PAGE_BYTES);
    memory.grow(3);
    expect(memory.buffer.byteLength).toBe(5 * WASM_PAGE_BYTES);
    expect(() => memory.grow(1)).toThrow(RangeError);
  });

  it('keeps a lower maximum the module already had', () => {
    expect(readDefinedMemories(withMemoryMaximum(moduleWithMemory(1, 4), 100))[0]!.maximumPages).toBe(4);
  });

  it('handles limits whose LEB128 encoding is longer than one byte', () => {
    const limited = withMemoryMaximum(moduleWithMemory(1), 320);
    expect(readDefinedMemories(limited)).toEqual([{ initialPages: 1, maximumPages: 320 }]);
    const memory = instantiateMemory(limited);
    memory.grow(319);
    expect(() => memory.grow(1)).toThrow(RangeError);
  });

  it('refuses a maximum below the initial memory', () => {
    expect(() => withMemoryMaximum(moduleWithMemory(10), 5)).toThrow(/starts at 10 pages/);
  });

  it('refuses what is not a module', () => {
    expect(() => readDefinedMemories(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(WasmFormatError);
  });

  it('leaves a module without memories unchanged', () => {
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(withMemoryMaximum(empty, 5)).toBe(empty);
  });
});
