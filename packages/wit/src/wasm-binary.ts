/**
 * The few pieces of the WebAssembly binary format the project reads and rewrites itself:
 * LEB128 integers, names, and the section list of a core module. Everything that changes a
 * module (memory limits, imported memories, exported globals) builds on these.
 */

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export class WasmFormatError extends Error {
  override name = 'WasmFormatError';
}

export class ByteReader {
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.offset = start;
  }

  byte(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw new WasmFormatError('unexpected end of module');
    this.offset += 1;
    return value;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new WasmFormatError('malformed LEB128 integer');
    }
    return result;
  }

  /** A signed LEB128 of up to 64 bits (i32.const and i64.const immediates). */
  s64(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (shift > 70n) throw new WasmFormatError('malformed LEB128 integer');
    } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return result;
  }

  take(length: number): Uint8Array {
    const end = this.offset + length;
    if (end > this.bytes.length) throw new WasmFormatError('unexpected end of module');
    const view = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return view;
  }

  name(): string {
    return new TextDecoder().decode(this.take(this.u32()));
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let b = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest !== 0) b |= 0x80;
    out.push(b);
  } while (rest !== 0);
  return out;
}

export function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...encodeU32(bytes.length), ...bytes];
}

export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
} as const;

export interface Section {
  id: number;
  /** Offset of the section's id byte. */
  start: number;
  payloadStart: number;
  payloadEnd: number;
}

export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WasmFormatError('not a WebAssembly module (bad magic number)');
  }
  const reader = new ByteReader(bytes, 8);
  const sections: Section[] = [];
  while (reader.offset < bytes.length) {
    const start = reader.offset;
    const id = reader.byte();
    const size = reader.u32();
    const payloadStart = reader.offset;
    const payloadEnd = payloadStart + size;
    if (payloadEnd > bytes.length) throw new WasmFormatError('section runs past the end of the module');
    sections.push({ id, start, payloadStart, payloadEnd });
    reader.offset = payloadEnd;
  }
  return sections;
}

/** A section as bytes: id, payload size, payload. */
export function encodeSection(id: number, payload: ArrayLike<number>): Uint8Array {
  const size = encodeU32(payload.length);
  const out = new Uint8Array(1 + size.length + payload.length);
  out[0] = id;
  out.set(size, 1);
  out.set(payload, 1 + size.length);
  return out;
}

/**
 * A module with some sections replaced (`Uint8Array`: whole encoded sections, any number) or
 * dropped (`null`); sections absent from `replacements` are kept. Sections are named by the
 * objects `readSections(bytes)` returned.
 */
export function rebuildModule(
  bytes: Uint8Array,
  replacements: ReadonlyMap<Section, Uint8Array | null>,
): Uint8Array<ArrayBuffer> {
  const byStart = new Map([...replacements].map(([section, value]) => [section.start, value]));
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const section of readSections(bytes)) {
    const replacement = byStart.get(section.start);
    if (replacement === null) continue;
    parts.push(replacement ?? bytes.subarray(section.start, section.payloadEnd));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
