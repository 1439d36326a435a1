/**
 * A guest's core modules rewritten so that its state can live outside any one instance:
 *
 * - The memory the main module defines becomes an import (`cs.memory`), shared, so the host
 *   owns it: any executor thread can instantiate the modules over it, and another thread can
 *   write interrupt flags into it while the guest runs.
 * - Memories other modules import are declared shared to match.
 * - Active data segments are emptied and returned as the base image, applied once when a
 *   sandbox's memory is created; instantiating over a live memory must not rewrite its heap.
 * - Every mutable global is exported as `cs:global:<index>`, so its value (the stack pointer,
 *   the WASI adapter's state) can be saved after a call and restored in another instance.
 *
 * The rewritten modules do not depend on the memory limit: the limit is the maximum of the
 * memory the host creates, which the engine enforces on `memory.grow`.
 */
import {
  ByteReader,
  SECTION,
  WasmFormatError,
  encodeName,
  encodeSection,
  encodeU32,
  readSections,
  rebuildModule,
  type Section,
} from '@component-sandbox/wit';

/** Module and field of the memory import that replaces the main module's own memory. */
export const MEMORY_IMPORT = { module: 'cs', name: 'memory' } as const;
export { GLOBAL_EXPORT_PREFIX } from '../binding/globals.js';
import { GLOBAL_EXPORT_PREFIX } from '../binding/globals.js';

/** The most pages a 32-bit memory can have; imports declare it so one module fits all limits. */
const MAX_PAGES = 65536;
const LIMITS_SHARED_WITH_MAX = 0x03;
const LIMITS_HAS_MAX = 0x01;

const KIND = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;
const NUMBER_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c]);

export interface DataSegment {
  offset: number;
  bytes: Uint8Array;
}

export interface RewrittenModule {
  bytes: Uint8Array<ArrayBuffer>;
  /** Initial pages of the memory the module defined, if it defined one. */
  definedMemoryPages: number | undefined;
  /** Contents of the active data segments, in order. */
  segments: DataSegment[];
  /** Count of mutable globals now exported. */
  exportedGlobals: number;
}

function limits(reader: ByteReader): { initial: number; maximum?: number } {
  const flags = reader.byte();
  if (flags & 0x04) throw new WasmFormatError('64-bit memories are not supported');
  const initial = reader.u32();
  return flags & LIMITS_HAS_MAX ? { initial, maximum: reader.u32() } : { initial };
}

function sharedLimits(initial: number): number[] {
  return [LIMITS_SHARED_WITH_MAX, ...encodeU32(initial), ...encodeU32(MAX_PAGES)];
}

/** Skips a constant expression up to and including its `end`. */
function skipConstExpr(reader: ByteReader): void {
  for (;;) {
    const op = reader.byte();
    switch (op) {
      case 0x0b:
        return;
      case 0x41: // i32.const
      case 0x42: // i64.const
        reader.s64();
        break;
      case 0x43: // f32.const
        reader.take(4);
        break;
      case 0x44: // f64.const
        reader.take(8);
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        reader.u32();
        break;
      case 0xd0: // ref.null
        reader.byte();
        break;
      case 0x6a: // i32.add, i32.sub, i32.mul, i64.add, i64.sub, i64.mul (extended const)
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      default:
        throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)} in a constant expression`);
    }
  }
}

function offsetExpr(reader: ByteReader): number {
  if (reader.byte() !== 0x41) throw new WasmFormatError('a data segment offset is not an i32.const');
  const offset = Number(BigInt.asUintN(32, reader.s64()));
  if (reader.byte() !== 0x0b) throw new WasmFormatError('a data segment offset is not a single i32.const');
  return offset;
}

export function rewriteModule(bytes: Uint8Array): RewrittenModule {
  const sections = readSections(bytes);
  const find = (id: number): Section | undefined => sections.find((s) => s.id === id);
  const replacements = new Map<Section, Uint8Array | null>();

  // Imports: existing memory imports become shared; count imported globals for index space.
  let importedGlobals = 0;
  const importSection = find(SECTION.import);
  const importEntries: number[] = [];
  let importCount = 0;
  if (importSection) {
    const reader = new ByteReader(bytes, importSection.payloadStart);
    importCount = reader.u32();
    for (let i = 0; i < importCount; i += 1) {
      const start = reader.offset;
      reader.name();
      reader.name();
      const kind = reader.byte();
      const head = Array.from(bytes.subarray(start, reader.offset));
      switch (kind) {
        case KIND.func:
          reader.u32();
          break;
        case KIND.table:
          reader.byte();
          limits(reader);
          break;
        case KIND.memory: {
          const memory = limits(reader);
          importEntries.push(...head, ...sharedLimits(memory.initial));
          continue;
        }
        case KIND.global:
          reader.byte();
          reader.byte();
          importedGlobals += 1;
          break;
        case KIND.tag:
          reader.byte();
          reader.u32();
          break;
        default:
          throw new WasmFormatError(`unknown import kind ${kind}`);
      }
      importEntries.push(...bytes.subarray(start, reader.offset));
    }
  }

  // The defined memory becomes an import (its index, 0, is unchanged: no other memory exists).
  let definedMemoryPages: number | undefined;
  const memorySection = find(SECTION.memory);
  if (memorySection) {
    const reader = new ByteReader(bytes, memorySection.payloadStart);
    const count = reader.u32();
    if (count > 1) throw new WasmFormatError('modules with more than one memory are not supported');
    if (count === 1) {
      definedMemoryPages = limits(reader).initial;
      importEntries.push(
        ...encodeName(MEMORY_IMPORT.module),
        ...encodeName(MEMORY_IMPORT.name),
        KIND.memory,
        ...sharedLimits(definedMemoryPages),
      );
      importCount += 1;
    }
    replacements.set(memorySection, null);
  }
  const newImports = encodeSection(SECTION.import, [...encodeU32(importCount), ...importEntries]);
  if (importSection) replacements.set(importSection, newImports);

  // Mutable globals, exported so their values can be carried between instances.
  const globalExports: number[] = [];
  let exportedGlobals = 0;
  const globalSection = find(SECTION.global);
  if (globalSection) {
    const reader = new ByteReader(bytes, globalSection.payloadStart);
    const count = reader.u32();
    for (let i = 0; i < count; i += 1) {
      const type = reader.byte();
      const mutable = reader.byte() === 1;
      skipConstExpr(reader);
      if (!mutable) continue;
      if (!NUMBER_TYPES.has(type)) {
        throw new WasmFormatError(`mutable global ${importedGlobals + i} is not a number; its state cannot be kept`);
      }
      globalExports.push(...encodeName(`${GLOBAL_EXPORT_PREFIX}${exportedGlobals}`), KIND.global);
      globalExports.push(...encodeU32(importedGlobals + i));
      exportedGlobals += 1;
    }
  }
  const exportSection = find(SECTION.export);
  let exportCount = 0;
  let exportEntries: Uint8Array = new Uint8Array(0);
  if (exportSection) {
    const reader = new ByteReader(bytes, exportSection.payloadStart);
    exportCount = reader.u32();
    exportEntries = bytes.subarray(reader.offset, exportSection.payloadEnd);
  }
  const newExports = encodeSection(SECTION.export, [
    ...encodeU32(exportCount + exportedGlobals),
    ...exportEntries,
    ...globalExports,
  ]);
  if (exportSection) replacements.set(exportSection, newExports);

  // Active data segments: emptied (kept as passive so segment indices stay valid).
  const segments: DataSegment[] = [];
  const dataSection = find(SECTION.data);
  if (dataSection) {
    const reader = new ByteReader(bytes, dataSection.payloadStart);
    const count = reader.u32();
    const out: number[] = encodeU32(count);
    for (let i = 0; i < count; i += 1) {
      const flags = reader.u32();
      if (flags === 1) {
        const start = reader.offset;
        reader.take(reader.u32());
        out.push(1, ...bytes.subarray(start, reader.offset));
        continue;
      }
      if (flags === 2 && reader.u32() !== 0) throw new WasmFormatError('data for a second memory');
      if (flags !== 0 && flags !== 2) throw new WasmFormatError(`unknown data segment kind ${flags}`);
      const offset = offsetExpr(reader);
      segments.push({ offset, bytes: reader.take(reader.u32()) });
      out.push(1, 0);
    }
    replacements.set(dataSection, encodeSection(SECTION.data, out));
  }

  // Sections in their required order; imports and exports may not have existed before.
  const rebuilt = rebuildModule(bytes, replacements);
  return {
    bytes: insertMissing(rebuilt, importSection ? undefined : newImports, exportSection ? undefined : newExports),
    definedMemoryPages,
    segments,
    exportedGlobals,
  };
}

/** Inserts an import or export section the module did not have, where the format orders it. */
function insertMissing(
  bytes: Uint8Array<ArrayBuffer>,
  newImports: Uint8Array | undefined,
  newExports: Uint8Array | undefined,
): Uint8Array<ArrayBuffer> {
  const sections = readSections(bytes);
  const replacements = new Map<Section, Uint8Array | null>();
  const insertBefore = (section: Uint8Array, id: number) => {
    const next = sections.find((s) => s.id !== SECTION.custom && order(s.id) > order(id));
    if (!next) throw new WasmFormatError('cannot place a new section');
    const existing = replacements.get(next);
    replacements.set(next, concat(section, existing ?? bytes.subarray(next.start, next.payloadEnd)));
  };
  if (newImports) insertBefore(newImports, SECTION.import);
  if (newExports) insertBefore(newExports, SECTION.export);
  return replacements.size === 0 ? bytes : rebuildModule(bytes, replacements);
}

/** Position in the binary format's section order (data count sits before code). */
function order(id: number): number {
  return id === SECTION.dataCount ? SECTION.code - 0.5 : id;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
