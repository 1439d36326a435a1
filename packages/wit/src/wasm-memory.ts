/**
 * Reads and rewrites the limits of the linear memories a core WebAssembly module defines.
 *
 * The memory limit of a sandbox is enforced by the engine itself: a module whose memory
 * declares `maximum = N pages` can never grow past N, so `memory.grow` fails inside the guest
 * (CPython turns that into MemoryError) instead of the host process running out of memory.
 * Imported memories are left alone: their owner (the defining module) carries the limit.
 */

import { ByteReader, SECTION, WasmFormatError, encodeU32, readSections } from './wasm-binary.js';

export { WasmFormatError } from './wasm-binary.js';

const MEMORY_SECTION_ID = SECTION.memory;
const LIMITS_HAS_MAX = 0x01;
const LIMITS_SHARED = 0x02;
const LIMITS_MEMORY64 = 0x04;
export const WASM_PAGE_BYTES = 65536;

export interface MemoryLimits {
  initialPages: number;
  maximumPages: number | undefined;
}

function readLimits(reader: ByteReader): MemoryLimits {
  const flags = reader.byte();
  if (flags & LIMITS_MEMORY64) throw new WasmFormatError('64-bit memories are not supported');
  if (flags & LIMITS_SHARED) throw new WasmFormatError('shared memories are not supported');
  const initialPages = reader.u32();
  const maximumPages = flags & LIMITS_HAS_MAX ? reader.u32() : undefined;
  return { initialPages, maximumPages };
}

/** The limits of every memory the module defines (not imports), in index order. */
export function readDefinedMemories(bytes: Uint8Array): MemoryLimits[] {
  const section = readSections(bytes).find((s) => s.id === MEMORY_SECTION_ID);
  if (!section) return [];
  const reader = new ByteReader(bytes, section.payloadStart);
  const count = reader.u32();
  return Array.from({ length: count }, () => readLimits(reader));
}

/**
 * Returns a copy of the module in which every defined memory has `maximum = maxPages`
 * (or its own maximum, when that is lower). Throws when a memory starts above `maxPages`,
 * since such a module could not even be instantiated under the limit.
 */
export function withMemoryMaximum(bytes: Uint8Array<ArrayBuffer>, maxPages: number): Uint8Array<ArrayBuffer> {
  const sections = readSections(bytes);
  const section = sections.find((s) => s.id === MEMORY_SECTION_ID);
  if (!section) return bytes;
  const memories = readDefinedMemories(bytes);
  const payload: number[] = encodeU32(memories.length);
  for (const memory of memories) {
    if (memory.initialPages > maxPages) {
      throw new WasmFormatError(
        `memory starts at ${memory.initialPages} pages, above the maximum of ${maxPages} pages`,
      );
    }
    const maximum = Math.min(memory.maximumPages ?? maxPages, maxPages);
    payload.push(LIMITS_HAS_MAX, ...encodeU32(memory.initialPages), ...encodeU32(maximum));
  }
  const header = [MEMORY_SECTION_ID, ...encodeU32(payload.length)];
  const sectionStart = section.start;
  const out = new Uint8Array(sectionStart + header.length + payload.length + (bytes.length - section.payloadEnd));
  out.set(bytes.subarray(0, sectionStart), 0);
  out.set(header, sectionStart);
  out.set(payload, sectionStart + header.length);
  out.set(bytes.subarray(section.payloadEnd), sectionStart + header.length + payload.length);
  return out;
}
