/**
 * The few pieces of the WebAssembly binary format the project reads and rewrites itself:
 * LEB128 integers, names, and the section list of a core module. Everything that changes a
 * module (memory limits, imported memories, exported globals) builds on these.
 */

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export class WasmFormatError extends Error {
  override name = 'WasmFormatError';
}

/** Reads `bytes` from `start` up to `end` (a section's payload, say); never past `end`. */
export class ByteReader {
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.offset = start;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  byte(): number {
    if (this.offset >= this.end) throw new WasmFormatError(`unexpected end of input at ${this.offset}`);
    return this.bytes[this.offset++]!;
  }

  /** An unsigned LEB128 of up to 64 bits (memory64 offsets too), as a number: exact up to 2^53. */
  u32(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 10) throw new WasmFormatError(`malformed LEB128 integer at ${this.offset}`);
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
  }

  /** A signed LEB128 that fits in 32 bits. */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (shift > 35) throw new WasmFormatError(`malformed LEB128 integer at ${this.offset}`);
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result;
  }

  /** Skips a signed or unsigned LEB128 of any width. */
  skipLeb(): void {
    for (let i = 0; ; i++) {
      if (i >= 10) throw new WasmFormatError(`malformed LEB128 integer at ${this.offset}`);
      if ((this.byte() & 0x80) === 0) return;
    }
  }

  skip(count: number): void {
    if (this.offset + count > this.end) throw new WasmFormatError(`unexpected end of input at ${this.offset}`);
    this.offset += count;
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
    if (end > this.end) throw new WasmFormatError(`unexpected end of input at ${this.offset}`);
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

export function encodeS32(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const b = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (b & 0x40) === 0) || (rest === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
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
  tag: 13,
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
  while (!reader.done) {
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

/** The module with one section's payload replaced. */
export function replaceSection(
  bytes: Uint8Array,
  section: Section,
  payload: ArrayLike<number>,
): Uint8Array<ArrayBuffer> {
  return rebuildModule(bytes, new Map([[section, encodeSection(section.id, payload)]]));
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
