/**
 * The canonical ABI against byte layouts worked out by hand from CanonicalABI.md (sizes,
 * alignments, discriminants, flattening with `join`), over a scratch memory with a bump realloc.
 */
import { describe, expect, it } from 'vitest';
import {
  FlatValues,
  GuestMemory,
  bool,
  char,
  enumeration,
  f32,
  flags,
  list,
  option,
  own,
  record,
  result,
  string,
  tuple,
  u32,
  u64,
  u8,
  variant,
  type CallContext,
  type CoreValue,
  type ValType,
} from '../../src/binding/canon.js';
import { HandleTables } from '../../src/binding/handles.js';
import { ComponentTrap } from '../../src/binding/trap.js';
import { streamError } from '../../src/binding/wasi/io.js';
import {
  descriptorFlags,
  descriptorStat,
  directoryEntry,
  errorCode,
  newTimestamp,
} from '../../src/binding/wasi/filesystem.js';
import { datetime } from '../../src/binding/wasi/clocks.js';
import { resource } from '../../src/binding/resource-type.js';

/** A one-page memory whose realloc hands out increasing aligned addresses from 1024. */
function scratch() {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const allocations: [number, number, number, number][] = [];
  let next = 1024;
  const cx: CallContext = {
    memory: new GuestMemory(memory),
    tables: new HandleTables(),
    realloc(oldPtr, oldSize, align, size) {
      allocations.push([oldPtr, oldSize, align, size]);
      next = Math.ceil(next / align) * align;
      const ptr = next;
      next += size;
      return ptr;
    },
  };
  const bytes = (ptr: number, length: number) => [...new Uint8Array(memory.buffer, ptr, length)];
  return { cx, memory, allocations, bytes, view: new DataView(memory.buffer) };
}

function roundTripMemory(type: ValType, value: unknown) {
  const s = scratch();
  s.cx.memory.bytes.fill(0xaa, 0, 256);
  type.store(s.cx, 0, value);
  return { ...s, loaded: type.load(s.cx, 0) };
}

function lowered(type: ValType, value: unknown, cx = scratch().cx): CoreValue[] {
  const out: CoreValue[] = [];
  type.lower(cx, value, out);
  return out;
}

describe('layouts', () => {
  it('sizes and alignments of WASI records and variants', () => {
    expect([datetime.size, datetime.align]).toEqual([16, 8]); // u64 @0, u32 @8, padded to 16
    expect([option(datetime).size, option(datetime).align]).toEqual([24, 8]); // u8 tag, payload @8
    // type @0 (u8 enum), link-count @8, size @16, three option<datetime> @24, @48, @72
    expect([descriptorStat.size, descriptorStat.align]).toEqual([96, 8]);
    expect([streamError.size, streamError.align]).toEqual([8, 4]); // u8 tag, own<error> @4
    expect([result(u64, streamError).size, result(u64, streamError).align]).toEqual([16, 8]);
    expect([directoryEntry.size, directoryEntry.align]).toEqual([12, 4]); // u8 @0, string @4
    expect([tuple(list(u8), bool).size, tuple(list(u8), bool).align]).toEqual([12, 4]);
    expect([errorCode.size, errorCode.align]).toEqual([1, 1]); // 37 cases fit a u8
    expect([enumeration(...Array.from({ length: 257 }, (_, i) => `c${i}`)).size]).toEqual([2]);
    expect([
      descriptorFlags.size,
      flags(...'abcdefghi'.split('')).size,
      flags(...'abcdefghijklmnopq'.split('')).size,
    ]).toEqual([1, 2, 4]);
  });

  it('flattens variants with join', () => {
    expect(result(u64, streamError).flat).toEqual(['i32', 'i64', 'i32']); // join(i64, i32) = i64
    expect(newTimestamp.flat).toEqual(['i32', 'i64', 'i32']);
    expect(variant({ a: f32, b: u32 }).flat).toEqual(['i32', 'i32']); // join(f32, i32) = i32
    expect(variant({ a: f32, b: u64 }).flat).toEqual(['i32', 'i64']);
    expect(descriptorStat.flat).toHaveLength(1 + 1 + 1 + 3 * 3);
    expect(string.flat).toEqual(['i32', 'i32']);
  });
});

describe('memory', () => {
  it('stores a descriptor-stat at the spec offsets', () => {
    const stat = {
      type: 'regular-file',
      linkCount: 1n,
      size: 0x0102030405060708n,
      dataAccessTimestamp: { seconds: 5n, nanoseconds: 7 },
      dataModificationTimestamp: undefined,
      statusChangeTimestamp: { seconds: 2n ** 64n - 1n, nanoseconds: 999_999_999 },
    };
    const { view, loaded } = roundTripMemory(descriptorStat, stat);
    expect(view.getUint8(0)).toBe(6); // regular-file is case 6
    expect(view.getBigUint64(8, true)).toBe(1n);
    expect(view.getBigUint64(16, true)).toBe(0x0102030405060708n);
    expect(view.getUint8(24)).toBe(1);
    expect(view.getBigUint64(32, true)).toBe(5n);
    expect(view.getUint32(40, true)).toBe(7);
    expect(view.getUint8(48)).toBe(0);
    expect(view.getUint8(72)).toBe(1);
    expect(view.getBigUint64(80, true)).toBe(2n ** 64n - 1n);
    expect(view.getUint32(88, true)).toBe(999_999_999);
    expect(loaded).toEqual(stat);
  });

  it('stores result<u64, stream-error> with the payload at offset 8', () => {
    const ok = roundTripMemory(result(u64, streamError), { tag: 'ok', val: 2n ** 63n });
    expect(ok.view.getUint8(0)).toBe(0);
    expect(ok.view.getBigUint64(8, true)).toBe(2n ** 63n);
    expect(ok.loaded).toEqual({ tag: 'ok', val: 2n ** 63n });

    const closed = roundTripMemory(result(u64, streamError), { tag: 'err', val: { tag: 'closed' } });
    expect(closed.view.getUint8(0)).toBe(1);
    expect(closed.view.getUint8(8)).toBe(1); // closed is case 1 of stream-error
    expect(closed.loaded).toEqual({ tag: 'err', val: { tag: 'closed' } });
  });

  it('allocates strings with realloc(0, 0, 1, utf8 length)', () => {
    const { view, allocations, bytes, loaded } = roundTripMemory(string, 'héllo');
    expect(allocations).toEqual([[0, 0, 1, 6]]);
    expect(view.getUint32(0, true)).toBe(1024);
    expect(view.getUint32(4, true)).toBe(6);
    expect(bytes(1024, 6)).toEqual([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]);
    expect(loaded).toBe('héllo');
  });

  it('stores a list of records: the list first, then each element’s string', () => {
    const entries = [
      { type: 'directory', name: 'a' },
      { type: 'regular-file', name: 'bc' },
    ];
    const { view, allocations, bytes, loaded } = roundTripMemory(list(directoryEntry), entries);
    expect(allocations).toEqual([
      [0, 0, 4, 24],
      [0, 0, 1, 1],
      [0, 0, 1, 2],
    ]);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([1024, 2]);
    // element i at 1024 + 12i: type (u8) @0, name pointer @4, name length @8
    expect([view.getUint8(1024), view.getUint32(1028, true), view.getUint32(1032, true)]).toEqual([3, 1048, 1]);
    expect([view.getUint8(1036), view.getUint32(1040, true), view.getUint32(1044, true)]).toEqual([6, 1049, 2]);
    expect(bytes(1048, 3)).toEqual([0x61, 0x62, 0x63]);
    expect(loaded).toEqual(entries);
  });

  it('packs flags in label order', () => {
    const { view, loaded } = roundTripMemory(descriptorFlags, { read: true, mutateDirectory: true });
    expect(view.getUint8(0)).toBe(0b100001);
    expect(loaded).toEqual({
      read: true,
      write: false,
      fileIntegritySync: false,
      dataIntegritySync: false,
      requestedWriteSync: false,
      mutateDirectory: true,
    });
  });

  it('copies list<u8> out as a Uint8Array', () => {
    const { loaded } = roundTripMemory(tuple(list(u8), bool), [new Uint8Array([1, 2, 3]), true]);
    expect(loaded).toEqual([new Uint8Array([1, 2, 3]), true]);
  });
});

describe('flat values', () => {
  it('lowers a variant case into the joined types, padding with zeros', () => {
    expect(lowered(newTimestamp, { tag: 'timestamp', val: { seconds: 3n, nanoseconds: 4 } })).toEqual([2, 3n, 4]);
    expect(lowered(newTimestamp, { tag: 'now' })).toEqual([1, 0n, 0]);
    // An f32 payload travels as its bits in an i32 slot.
    const bits = new DataView(new ArrayBuffer(4));
    bits.setFloat32(0, 1.5, true);
    expect(lowered(variant({ a: f32, b: u32 }), { tag: 'a', val: 1.5 })).toEqual([0, bits.getInt32(0, true)]);
    expect(lowered(variant({ a: u32, b: u64 }), { tag: 'a', val: 7 })).toEqual([0, 7n]); // zero-extended
  });

  it('lifts what it lowers, narrowing joined slots back', () => {
    const s = scratch();
    for (const [type, value] of [
      [variant({ a: f32, b: u32 }), { tag: 'a', val: 1.5 }],
      [variant({ a: u32, b: u64 }), { tag: 'a', val: 0xffffffff }],
      [newTimestamp, { tag: 'timestamp', val: { seconds: 2n ** 64n - 1n, nanoseconds: 1 } }],
      [option(string), 'x'],
      [option(string), undefined],
      [result(undefined, errorCode), { tag: 'err', val: 'read-only' }],
      [char, '€'],
    ] as [ValType, unknown][]) {
      expect(type.lift(s.cx, new FlatValues(lowered(type, value, s.cx)))).toEqual(value);
    }
  });

  it('traps on invalid guest values', () => {
    const { cx } = scratch();
    expect(() => errorCode.lift(cx, new FlatValues([37]))).toThrow(ComponentTrap);
    expect(() => char.lift(cx, new FlatValues([0xd800]))).toThrow(ComponentTrap);
    expect(() => string.lift(cx, new FlatValues([65530, 100]))).toThrow(ComponentTrap);
    new Uint8Array(cx.memory.memory.buffer).set([0xff], 0);
    expect(() => string.lift(cx, new FlatValues([0, 1]))).toThrow(/not valid UTF-8/);
  });

  it('refuses host values of the wrong type', () => {
    expect(() => lowered(errorCode, 'no-such-code')).toThrow(TypeError);
    expect(() => lowered(u8, 256)).toThrow(TypeError);
    expect(() => lowered(u64, -1n)).toThrow(TypeError);
    expect(errorCode.accepts('no-entry')).toBe(true);
    expect(streamError.accepts({ tag: 'closed' })).toBe(true);
    expect(streamError.accepts(new Error('x'))).toBe(false);
  });
});

describe('handles', () => {
  it('numbers own handles from 1, reuses dropped ones, and moves owns out', () => {
    const { cx } = scratch();
    const thing = resource('test:x/y', 'thing');
    const [a, b, c] = [{}, {}, {}];
    expect(lowered(own(thing), a, cx)).toEqual([1]);
    expect(lowered(own(thing), b, cx)).toEqual([2]);
    const table = cx.tables.table(thing);
    expect(table.drop(1)).toEqual({ rep: a, own: true });
    expect(lowered(own(thing), c, cx)).toEqual([1]);
    expect(own(thing).lift(cx, new FlatValues([2]))).toBe(b);
    expect(() => table.get(2)).toThrow(ComponentTrap);
    expect(() => table.get(0)).toThrow(ComponentTrap);
    expect(table.size).toBe(1);
  });

  it('keeps record field values apart from the record type', () => {
    const r = record({ 'link-count': u64 });
    expect(r.lift(scratch().cx, new FlatValues([5n]))).toEqual({ linkCount: 5n });
  });
});
