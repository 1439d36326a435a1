/**
 * What guest-build reads from core modules beyond the shared binary reader of
 * @component-sandbox/wit: imports, memories, data segments, constant globals. Only what the
 * interrupt checks need (loop-checks.ts, snapshot reading).
 */

import { ByteReader, SECTION, WasmFormatError, readSections } from '@component-sandbox/wit';

/** A module the rewriter or its readers do not understand: an error, never a guess. */
export class WasmRewriteError extends WasmFormatError {
  override name = 'WasmRewriteError';
}

/** Skips a value type (numeric, vector, or reference type with its heap type). */
export function skipValueType(reader: ByteReader): void {
  const b = reader.byte();
  if (b === 0x63 || b === 0x64) reader.skipLeb(); // (ref null? ht)
}

/** Skips memory or table limits (any flags: max, shared, 64-bit). */
function skipLimits(reader: ByteReader): void {
  const flags = reader.byte();
  reader.skipLeb();
  if (flags & 0x01) reader.skipLeb();
}

export interface ImportEntry {
  module: string;
  name: string;
  /** 0 function, 1 table, 2 memory, 3 global, 4 tag. */
  kind: number;
}

export function readImports(bytes: Uint8Array, sections = readSections(bytes)): ImportEntry[] {
  const section = sections.find((s) => s.id === SECTION.import);
  if (!section) return [];
  const reader = new ByteReader(bytes, section.payloadStart, section.payloadEnd);
  const count = reader.u32();
  const imports: ImportEntry[] = [];
  for (let i = 0; i < count; i++) {
    const module = reader.name();
    const name = reader.name();
    const kind = reader.byte();
    switch (kind) {
      case 0: // function: type index
        reader.u32();
        break;
      case 1: // table: reftype, limits
        skipValueType(reader);
        skipLimits(reader);
        break;
      case 2: // memory
        skipLimits(reader);
        break;
      case 3: // global: valtype, mutability
        skipValueType(reader);
        reader.byte();
        break;
      case 4: // tag: attribute, type index
        reader.byte();
        reader.u32();
        break;
      default:
        throw new WasmRewriteError(`unknown import kind ${kind}`);
    }
    imports.push({ module, name, kind });
  }
  return imports;
}

/** How many memories the module has, imported and defined. */
export function memoryCount(bytes: Uint8Array, sections = readSections(bytes)): number {
  const imported = readImports(bytes, sections).filter((i) => i.kind === 2).length;
  const section = sections.find((s) => s.id === SECTION.memory);
  const defined = section ? new ByteReader(bytes, section.payloadStart, section.payloadEnd).u32() : 0;
  return imported + defined;
}

/** An active data segment of memory 0 with a constant offset. */
export interface DataSegment {
  offset: number;
  bytes: Uint8Array;
}

/**
 * The active data segments that initialise memory 0 at constant offsets (what wasm-ld and Wizer
 * write). Passive segments and segments placed by a global are skipped.
 */
export function readDataSegments(bytes: Uint8Array, sections = readSections(bytes)): DataSegment[] {
  const section = sections.find((s) => s.id === SECTION.data);
  if (!section) return [];
  const reader = new ByteReader(bytes, section.payloadStart, section.payloadEnd);
  const count = reader.u32();
  const segments: DataSegment[] = [];
  for (let i = 0; i < count; i++) {
    const flags = reader.u32();
    let memory = 0;
    let offset: number | undefined;
    if (flags === 1) {
      // passive
    } else {
      if (flags === 2) memory = reader.u32();
      else if (flags !== 0) throw new WasmRewriteError(`unknown data segment flags ${flags}`);
      const opcode = reader.byte();
      if (opcode === 0x41) offset = reader.s32() >>> 0;
      else if (opcode === 0x23)
        reader.u32(); // global.get: not a constant
      else throw new WasmRewriteError(`unsupported data segment offset expression 0x${opcode.toString(16)}`);
      if (reader.byte() !== 0x0b) throw new WasmRewriteError('unsupported data segment offset expression');
    }
    const length = reader.u32();
    const start = reader.offset;
    reader.skip(length);
    if (offset !== undefined && memory === 0) segments.push({ offset, bytes: bytes.subarray(start, start + length) });
  }
  return segments;
}

/**
 * Reads `length` bytes at `address` of memory 0 as the module's data segments initialise it
 * (bytes no segment covers are zero). Later segments win, as at instantiation.
 */
export function readInitialMemory(bytes: Uint8Array, address: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (const segment of readDataSegments(bytes)) {
    const from = Math.max(address, segment.offset);
    const to = Math.min(address + length, segment.offset + segment.bytes.length);
    if (from < to) out.set(segment.bytes.subarray(from - segment.offset, to - segment.offset), from - address);
  }
  return out;
}

/** The constant initial value of every global the module defines that is an `i32.const`. */
export function readI32Globals(bytes: Uint8Array, sections = readSections(bytes)): Map<number, number> {
  const importedGlobals = readImports(bytes, sections).filter((i) => i.kind === 3).length;
  const section = sections.find((s) => s.id === SECTION.global);
  const values = new Map<number, number>();
  if (!section) return values;
  const reader = new ByteReader(bytes, section.payloadStart, section.payloadEnd);
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    skipValueType(reader);
    reader.byte(); // mutability
    const opcode = reader.byte();
    if (opcode === 0x41) {
      values.set(importedGlobals + i, reader.s32());
      if (reader.byte() !== 0x0b) throw new WasmRewriteError('unsupported global initialiser');
      continue;
    }
    // Skip any other constant expression up to its `end`.
    reader.offset -= 1;
    skipConstExpr(reader);
  }
  return values;
}

function skipConstExpr(reader: ByteReader): void {
  for (;;) {
    const opcode = reader.byte();
    if (opcode === 0x0b) return;
    if (opcode === 0x41 || opcode === 0x42 || opcode === 0x23 || opcode === 0xd2) reader.skipLeb();
    else if (opcode === 0x43) reader.skip(4);
    else if (opcode === 0x44) reader.skip(8);
    else if (opcode === 0xd0) reader.skipLeb();
    else if (opcode === 0xfd) {
      if (reader.u32() !== 12) throw new WasmRewriteError('unsupported constant expression');
      reader.skip(16);
    } else if (opcode >= 0x6a && opcode <= 0x6c) {
      // i32.add/sub/mul (extended constant expressions)
    } else if (opcode >= 0x7c && opcode <= 0x7e) {
      // i64.add/sub/mul
    } else throw new WasmRewriteError(`unsupported constant expression opcode 0x${opcode.toString(16)}`);
  }
}
