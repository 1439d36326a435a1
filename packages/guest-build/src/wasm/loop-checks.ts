/**
 * The hard stop: inserts, at the top of every `loop` of a core module, a check of one 32-bit
 * word of linear memory 0 that traps (`unreachable`) when the word holds a given value:
 *
 *   loop <blocktype>
 *     i32.const 0
 *     i32.atomic.load offset=<address>     ;; sequentially consistent: another thread's
 *     i32.const <value>                    ;; Atomics.store is seen at the next iteration
 *     i32.eq
 *     if
 *       unreachable
 *     end
 *     <the loop's own body>
 *
 * Every path that runs for long in wasm passes a loop header (recursion ends in a stack overflow
 * trap by itself), so a host that writes `value` at `address` from any thread stops the guest
 * within one loop iteration, without terminating the thread that runs it. The check consumes
 * only what it pushes, so loops with parameters stay valid, and it holds no branch, so the label
 * depths inside the loop are unchanged.
 *
 * The rewriter decodes every instruction of the code section (MVP, sign extension, saturating
 * truncation, bulk memory, reference types, SIMD, relaxed SIMD, threads, tail calls, exception
 * handling) and copies all other bytes unchanged; anything else (GC, typed function
 * references beyond call_ref, memory64 memargs past 32 bits) makes it throw rather than guess.
 * Function indices, names and every other section stay as they were.
 */
import {
  ByteReader as Reader,
  SECTION,
  encodeS32,
  encodeU32,
  readSections,
  replaceSection,
} from '@component-sandbox/wit';
import { WasmRewriteError, memoryCount, skipValueType } from './binary.js';

export interface LoopCheckOptions {
  /** Byte address of the word in memory 0; must be 4-byte aligned. */
  address: number;
  /** The value that stops the guest. */
  value: number;
  /**
   * `i32.atomic.load` (the default), which the memory model guarantees to see another thread's
   * store; `false` uses a plain `i32.load`, kept only to measure the difference.
   */
  atomic?: boolean;
}

export interface LoopCheckResult {
  bytes: Uint8Array;
  /** How many loop headers received a check. */
  loops: number;
  /** How many function bodies hold at least one. */
  functions: number;
}

/** The check placed after each `loop` opcode and its block type. */
export function checkSequence({ address, value, atomic = true }: LoopCheckOptions): Uint8Array {
  if (!Number.isInteger(address) || address < 0 || address % 4 !== 0 || address > 2 ** 32 - 4) {
    throw new WasmRewriteError(`the hard-stop word needs a 4-byte aligned 32-bit address, not ${address}`);
  }
  if (!Number.isInteger(value) || value <= 0 || value > 2 ** 32 - 1) {
    throw new WasmRewriteError(`the hard-stop value must be a non-zero 32-bit integer, not ${value}`);
  }
  // prettier-ignore
  return Uint8Array.from([
    0x41, 0x00, // i32.const 0
    ...(atomic ? [0xfe, 0x10] : [0x28]), 0x02, ...encodeU32(address), // i32.(atomic.)load align=4 offset=address
    0x41, ...encodeS32(value | 0), // i32.const value
    0x46, // i32.eq
    0x04, 0x40, // if (no result)
    0x00, // unreachable
    0x0b, // end
  ]);
}

/** Adds the hard-stop check to every loop of a module that has a memory 0 (defined or imported). */
export function insertLoopChecks(module: Uint8Array, options: LoopCheckOptions): LoopCheckResult {
  const check = checkSequence(options);
  const sections = readSections(module);
  const code = sections.find((s) => s.id === SECTION.code);
  if (!code) return { bytes: module, loops: 0, functions: 0 };
  if (memoryCount(module, sections) === 0) {
    throw new WasmRewriteError('the module has no memory for the hard-stop word');
  }

  const reader = new Reader(module, code.payloadStart, code.payloadEnd);
  const count = reader.u32();
  const chunks: Uint8Array[] = [Uint8Array.from(encodeU32(count))];
  let loops = 0;
  let functions = 0;
  for (let i = 0; i < count; i++) {
    const size = reader.u32();
    const bodyStart = reader.offset;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > code.payloadEnd) throw new WasmRewriteError(`function body ${i} runs past the code section`);
    const loopEnds = findLoopHeaders(module, bodyStart, bodyEnd, i);
    if (loopEnds.length === 0) {
      chunks.push(module.subarray(bodyStart - encodeU32(size).length, bodyEnd));
    } else {
      functions += 1;
      loops += loopEnds.length;
      const newSize = size + loopEnds.length * check.length;
      chunks.push(Uint8Array.from(encodeU32(newSize)));
      let from = bodyStart;
      for (const at of loopEnds) {
        chunks.push(module.subarray(from, at), check);
        from = at;
      }
      chunks.push(module.subarray(from, bodyEnd));
    }
    reader.offset = bodyEnd;
  }
  if (reader.offset !== code.payloadEnd) throw new WasmRewriteError('the code section has trailing bytes');

  const payloadLength = chunks.reduce((sum, c) => sum + c.length, 0);
  const payload = new Uint8Array(payloadLength);
  let at = 0;
  for (const chunk of chunks) {
    payload.set(chunk, at);
    at += chunk.length;
  }
  return { bytes: replaceSection(module, code, payload), loops, functions };
}

/**
 * Decodes one function body and returns, for each `loop`, the offset just after its block type
 * (where the check goes). Verifies that the body's blocks balance and that it ends exactly at
 * its final `end`, so a decoding mistake cannot go unnoticed.
 */
function findLoopHeaders(bytes: Uint8Array, start: number, end: number, index: number): number[] {
  const r = new Reader(bytes, start, end);
  const localGroups = r.u32();
  for (let i = 0; i < localGroups; i++) {
    r.u32();
    skipValueType(r);
  }
  const headers: number[] = [];
  let depth = 1; // the function's own block
  while (depth > 0) {
    const opcode = r.byte();
    switch (opcode) {
      case 0x02: // block
      case 0x04: // if
      case 0x06: // try (legacy exception handling)
        skipBlockType(r);
        depth += 1;
        break;
      case 0x03: // loop
        skipBlockType(r);
        headers.push(r.offset);
        depth += 1;
        break;
      case 0x1f: {
        // try_table bt vec(catch)
        skipBlockType(r);
        const catches = r.u32();
        for (let i = 0; i < catches; i++) {
          const kind = r.byte();
          if (kind === 0x00 || kind === 0x01)
            r.u32(); // tag
          else if (kind !== 0x02 && kind !== 0x03) throw unknown(index, r, `catch kind ${kind}`);
          r.u32(); // label
        }
        depth += 1;
        break;
      }
      case 0x0b: // end
        depth -= 1;
        break;
      case 0x18: // delegate ends a try
        r.u32();
        depth -= 1;
        break;
      default:
        skipImmediates(opcode, r, index);
    }
  }
  if (r.offset !== end) throw new WasmRewriteError(`function body ${index}: code after its final end`);
  return headers;
}

function unknown(index: number, r: Reader, what: string): WasmRewriteError {
  return new WasmRewriteError(`function body ${index}: unsupported ${what} at byte ${r.offset} of the module`);
}

function skipBlockType(r: Reader): void {
  const b = r.bytes[r.offset];
  if (b === 0x40 || (b !== undefined && b >= 0x6f && b <= 0x7f)) {
    r.offset += 1;
  } else if (b === 0x63 || b === 0x64) {
    r.offset += 1;
    r.skipLeb();
  } else {
    r.skipLeb(); // type index (s33)
  }
}

function skipMemarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // memory index (multi-memory)
  r.skipLeb(); // offset
}

function skipImmediates(opcode: number, r: Reader, index: number): void {
  // Opcodes without immediates.
  if (
    opcode === 0x00 ||
    opcode === 0x01 ||
    opcode === 0x05 || // else
    opcode === 0x0a || // throw_ref
    opcode === 0x0f || // return
    opcode === 0x19 || // catch_all
    opcode === 0x1a || // drop
    opcode === 0x1b || // select
    (opcode >= 0x45 && opcode <= 0xc4) || // numeric, sign extension
    opcode === 0xd1 || // ref.is_null
    opcode === 0xd3 || // ref.eq
    opcode === 0xd4 // ref.as_non_null
  ) {
    return;
  }
  switch (opcode) {
    case 0x07: // catch tag
    case 0x08: // throw tag
    case 0x09: // rethrow depth
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref type
    case 0x15: // return_call_ref type
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0xd2: // ref.func
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      r.u32();
      return;
    case 0x0e: {
      // br_table vec(label) label
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
      return;
    }
    case 0x11: // call_indirect type table
    case 0x13: // return_call_indirect
      r.u32();
      r.u32();
      return;
    case 0x1c: {
      // select with types
      const n = r.u32();
      for (let i = 0; i < n; i++) skipValueType(r);
      return;
    }
    case 0x3f: // memory.size
    case 0x40: // memory.grow
      r.u32();
      return;
    case 0x41: // i32.const
    case 0x42: // i64.const
      r.skipLeb();
      return;
    case 0x43:
      r.skip(4);
      return;
    case 0x44:
      r.skip(8);
      return;
    case 0xd0: // ref.null heaptype
      r.skipLeb();
      return;
    case 0xfc:
      skipFc(r, index);
      return;
    case 0xfd:
      skipSimd(r, index);
      return;
    case 0xfe:
      skipAtomic(r, index);
      return;
  }
  if (opcode >= 0x28 && opcode <= 0x3e) {
    skipMemarg(r); // loads and stores
    return;
  }
  throw unknown(index, r, `opcode 0x${opcode.toString(16)}`);
}

function skipFc(r: Reader, index: number): void {
  const sub = r.u32();
  if (sub <= 7) return; // saturating truncation
  switch (sub) {
    case 8: // memory.init data mem
    case 10: // memory.copy mem mem
    case 12: // table.init elem table
    case 14: // table.copy table table
      r.u32();
      r.u32();
      return;
    case 9: // data.drop
    case 11: // memory.fill mem
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      r.u32();
      return;
  }
  throw unknown(index, r, `0xfc ${sub}`);
}

function skipSimd(r: Reader, index: number): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) {
    skipMemarg(r); // v128 loads, store, load32_zero, load64_zero
  } else if (sub === 12 || sub === 13) {
    r.skip(16); // v128.const, i8x16.shuffle
  } else if (sub >= 21 && sub <= 34) {
    r.skip(1); // extract/replace lane
  } else if (sub >= 84 && sub <= 91) {
    skipMemarg(r); // load/store lane
    r.skip(1);
  } else if (sub > 255 + 20) {
    throw unknown(index, r, `0xfd ${sub}`);
  }
  // Every other SIMD and relaxed SIMD (0x100-0x113) instruction has no immediate.
}

function skipAtomic(r: Reader, index: number): void {
  const sub = r.u32();
  if (sub === 0x03) {
    r.skip(1); // atomic.fence 0x00
  } else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) {
    skipMemarg(r);
  } else {
    throw unknown(index, r, `0xfe ${sub}`);
  }
}
