/**
 * The component model's canonical ABI for the value types WASI 0.2 uses, written from
 * https://github.com/WebAssembly/component-model/blob/main/design/mvp/CanonicalABI.md
 * (32-bit memories, UTF-8 strings, synchronous calls only).
 *
 * Each type is an object that knows its layout (size, alignment, flat core types) and how to
 * move a JS value across the boundary in both directions: `load`/`store` for linear memory,
 * `lift`/`lower` for flat core values. JS values have the shapes jco's preview2-shim uses
 * (records as camelCase objects, variants as `{tag, val}`, `option<T>` as `T | undefined`,
 * u64 as bigint, `list<u8>` as Uint8Array), so the host's WASI classes serve both bindings.
 */
import type { HandleTables } from './handles.js';
import type { ResourceType } from './resource-type.js';
import { ComponentTrap } from './trap.js';

export type CoreType = 'i32' | 'i64' | 'f32' | 'f64';
export type CoreValue = number | bigint;

/** The guest's linear memory as views that are refreshed whenever the memory has grown. */
export class GuestMemory {
  private buffer: ArrayBufferLike | undefined;
  private dataView!: DataView;
  private byteView!: Buffer;

  constructor(readonly memory: WebAssembly.Memory) {}

  private refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.buffer) return;
    this.buffer = buffer;
    this.dataView = new DataView(buffer);
    this.byteView = Buffer.from(buffer);
  }

  get view(): DataView {
    this.refresh();
    return this.dataView;
  }

  /** A Buffer over the whole memory (Buffer for its fast UTF-8 writer). */
  get bytes(): Buffer {
    this.refresh();
    return this.byteView;
  }
}

/** What lifting and lowering need at run time: one call's canonical options plus the tables. */
export interface CallContext {
  readonly memory: GuestMemory;
  /** The realloc that `string`/`list` results are allocated with in the guest. */
  realloc(oldPtr: number, oldSize: number, align: number, newSize: number): number;
  readonly tables: HandleTables;
}

/** Reads flat core values in order, as the spec's CoreValueIter does. */
export interface FlatReader {
  next(want: CoreType): CoreValue;
}

export class FlatValues implements FlatReader {
  private index = 0;
  constructor(private readonly values: ArrayLike<CoreValue>) {}
  next(): CoreValue {
    return this.values[this.index++]!;
  }
}

export interface ValType {
  /** For error messages. */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly flat: readonly CoreType[];
  load(cx: CallContext, ptr: number): unknown;
  store(cx: CallContext, ptr: number, value: unknown): void;
  lift(cx: CallContext, from: FlatReader): unknown;
  lower(cx: CallContext, value: unknown, out: CoreValue[]): void;
  /**
   * Whether `value` has this type's shape, checked shallowly: a host function's throw is the
   * `err` case of its result only if it is an error of the declared type.
   */
  accepts(value: unknown): boolean;
}

export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;
const MAX_STRING_BYTE_LENGTH = 2 ** 28 - 1;
const MAX_LIST_BYTE_LENGTH = 2 ** 28 - 1;

export function alignTo(ptr: number, align: number): number {
  return Math.ceil(ptr / align) * align;
}

function trap(message: string): never {
  throw new ComponentTrap(message);
}

function checkRange(cx: CallContext, ptr: number, length: number, align: number, what: string): void {
  if (ptr % align !== 0) trap(`${what} at ${ptr} is not aligned to ${align}`);
  if (ptr + length > cx.memory.memory.buffer.byteLength) trap(`${what} at ${ptr}+${length} is out of bounds`);
}

function hostTypeError(type: ValType, value: unknown): never {
  const shown =
    typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new TypeError(`the host returned ${shown}, which is not a valid ${type.name}`);
}

// ---------------------------------------------------------------------------------------------
// Numbers

interface NumberSpec {
  name: string;
  size: 1 | 2 | 4 | 8;
  core: CoreType;
  /** From the raw core value (a JS number for i32, as wasm hands it: signed) to the JS value. */
  fromCore(raw: CoreValue): unknown;
  /** From a host value to the core value; undefined when out of range. */
  toCore(value: unknown): CoreValue | undefined;
  read(view: DataView, ptr: number): unknown;
  write(view: DataView, ptr: number, core: CoreValue): void;
}

function integer(name: string, bits: 8 | 16 | 32, signed: boolean): NumberSpec {
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const shift = 32 - bits;
  const fromCore = signed
    ? (raw: CoreValue) => (Number(raw) << shift) >> shift
    : bits === 32
      ? (raw: CoreValue) => Number(raw) >>> 0
      : (raw: CoreValue) => Number(raw) & max;
  const size = (bits / 8) as 1 | 2 | 4;
  return {
    name,
    size,
    core: 'i32',
    fromCore,
    toCore: (value) =>
      typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value | 0 : undefined,
    read: (view, ptr) =>
      size === 1
        ? signed
          ? view.getInt8(ptr)
          : view.getUint8(ptr)
        : size === 2
          ? signed
            ? view.getInt16(ptr, true)
            : view.getUint16(ptr, true)
          : signed
            ? view.getInt32(ptr, true)
            : view.getUint32(ptr, true),
    write: (view, ptr, core) => {
      if (size === 1) view.setUint8(ptr, Number(core) & 0xff);
      else if (size === 2) view.setUint16(ptr, Number(core) & 0xffff, true);
      else view.setInt32(ptr, Number(core), true);
    },
  };
}

function integer64(name: string, signed: boolean): NumberSpec {
  const wrap = signed ? (v: bigint) => BigInt.asIntN(64, v) : (v: bigint) => BigInt.asUintN(64, v);
  return {
    name,
    size: 8,
    core: 'i64',
    fromCore: (raw) => wrap(BigInt(raw)),
    toCore: (value) => {
      // jco's shim accepts numbers for u64 too; so do we, when they are exact integers.
      const big =
        typeof value === 'bigint'
          ? value
          : typeof value === 'number' && Number.isSafeInteger(value)
            ? BigInt(value)
            : undefined;
      return big !== undefined && wrap(big) === big ? big : undefined;
    },
    read: (view, ptr) => (signed ? view.getBigInt64(ptr, true) : view.getBigUint64(ptr, true)),
    write: (view, ptr, core) => view.setBigUint64(ptr, BigInt.asUintN(64, BigInt(core)), true),
  };
}

function float(name: string, bits: 32 | 64): NumberSpec {
  return {
    name,
    size: (bits / 8) as 4 | 8,
    core: bits === 32 ? 'f32' : 'f64',
    fromCore: (raw) => Number(raw),
    toCore: (value) => (typeof value === 'number' ? value : undefined),
    read: (view, ptr) => (bits === 32 ? view.getFloat32(ptr, true) : view.getFloat64(ptr, true)),
    write: (view, ptr, core) =>
      bits === 32 ? view.setFloat32(ptr, Number(core), true) : view.setFloat64(ptr, Number(core), true),
  };
}

function numberType(spec: NumberSpec): ValType {
  const type: ValType = {
    name: spec.name,
    size: spec.size,
    align: spec.size,
    flat: [spec.core],
    load: (cx, ptr) => spec.read(cx.memory.view, ptr),
    store: (cx, ptr, value) => spec.write(cx.memory.view, ptr, toCore(value)),
    lift: (_cx, from) => spec.fromCore(from.next(spec.core)),
    lower: (_cx, value, out) => void out.push(toCore(value)),
    accepts: (value) => spec.toCore(value) !== undefined,
  };
  function toCore(value: unknown): CoreValue {
    const core = spec.toCore(value);
    return core === undefined ? hostTypeError(type, value) : core;
  }
  return type;
}

export const u8 = numberType(integer('u8', 8, false));
export const u16 = numberType(integer('u16', 16, false));
export const u32 = numberType(integer('u32', 32, false));
export const s8 = numberType(integer('s8', 8, true));
export const s16 = numberType(integer('s16', 16, true));
export const s32 = numberType(integer('s32', 32, true));
export const u64 = numberType(integer64('u64', false));
export const s64 = numberType(integer64('s64', true));
export const f32 = numberType(float('f32', 32));
export const f64 = numberType(float('f64', 64));

export const bool: ValType = {
  name: 'bool',
  size: 1,
  align: 1,
  flat: ['i32'],
  load: (cx, ptr) => cx.memory.view.getUint8(ptr) !== 0,
  store: (cx, ptr, value) => cx.memory.view.setUint8(ptr, value ? 1 : 0),
  lift: (_cx, from) => from.next('i32') !== 0,
  lower: (_cx, value, out) => void out.push(value ? 1 : 0),
  accepts: (value) => typeof value === 'boolean',
};

function charFromCode(code: number): string {
  if (code >= 0x110000 || (code >= 0xd800 && code <= 0xdfff)) trap(`${code} is not a Unicode scalar value`);
  return String.fromCodePoint(code);
}

function codeOfChar(type: ValType, value: unknown): number {
  const code = typeof value === 'string' ? value.codePointAt(0) : undefined;
  if (code === undefined || String.fromCodePoint(code) !== value || (code >= 0xd800 && code <= 0xdfff)) {
    hostTypeError(type, value);
  }
  return code;
}

export const char: ValType = {
  name: 'char',
  size: 4,
  align: 4,
  flat: ['i32'],
  load: (cx, ptr) => charFromCode(cx.memory.view.getUint32(ptr, true)),
  store: (cx, ptr, value) => cx.memory.view.setUint32(ptr, codeOfChar(char, value), true),
  lift: (_cx, from) => charFromCode(Number(from.next('i32')) >>> 0),
  lower: (_cx, value, out) => void out.push(codeOfChar(char, value)),
  accepts: (value) => typeof value === 'string' && [...value].length === 1,
};

// ---------------------------------------------------------------------------------------------
// Strings and lists: (pointer, length) pairs into memory the receiver allocates.

const utf8 = new TextDecoder('utf-8', { fatal: true });

function loadString(cx: CallContext, ptr: number, length: number): string {
  if (length > MAX_STRING_BYTE_LENGTH) trap(`a string of ${length} bytes is longer than the canonical ABI allows`);
  checkRange(cx, ptr, length, 1, 'string');
  try {
    return utf8.decode(cx.memory.bytes.subarray(ptr, ptr + length));
  } catch {
    return trap(`the string at ${ptr} is not valid UTF-8`);
  }
}

/** Allocates the string's exact UTF-8 length with the guest's realloc and writes it there. */
function storeString(cx: CallContext, value: unknown): [number, number] {
  if (typeof value !== 'string') hostTypeError(string, value);
  const length = Buffer.byteLength(value, 'utf8');
  // Always through realloc, even for "": the preview1 adapter checks that a result lands in
  // the buffer it handed out.
  const ptr = cx.realloc(0, 0, 1, length) >>> 0;
  checkRange(cx, ptr, length, 1, 'realloc result');
  if (length > 0) cx.memory.bytes.write(value, ptr, length, 'utf8');
  return [ptr, length];
}

export const string: ValType = {
  name: 'string',
  size: 8,
  align: 4,
  flat: ['i32', 'i32'],
  load: (cx, ptr) => {
    const view = cx.memory.view;
    return loadString(cx, view.getUint32(ptr, true), view.getUint32(ptr + 4, true));
  },
  store: (cx, ptr, value) => {
    const [begin, length] = storeString(cx, value);
    const view = cx.memory.view;
    view.setUint32(ptr, begin, true);
    view.setUint32(ptr + 4, length, true);
  },
  lift: (cx, from) => {
    const ptr = Number(from.next('i32')) >>> 0;
    return loadString(cx, ptr, Number(from.next('i32')) >>> 0);
  },
  lower: (cx, value, out) => void out.push(...storeString(cx, value)),
  accepts: (value) => typeof value === 'string',
};

export function list(elem: ValType): ValType {
  const isBytes = elem === u8;
  const loadRange = (cx: CallContext, ptr: number, length: number): unknown => {
    const byteLength = length * elem.size;
    if (byteLength > MAX_LIST_BYTE_LENGTH)
      trap(`a list of ${length} ${elem.name} is longer than the canonical ABI allows`);
    checkRange(cx, ptr, byteLength, elem.align, `list<${elem.name}>`);
    // Bytes are copied out: the guest may reuse its memory as soon as the call returns.
    if (isBytes) return new Uint8Array(cx.memory.bytes.subarray(ptr, ptr + length));
    const values = new Array<unknown>(length);
    for (let i = 0; i < length; i++) values[i] = elem.load(cx, ptr + i * elem.size);
    return values;
  };
  const storeRange = (cx: CallContext, value: unknown): [number, number] => {
    if (!isArrayLike(value)) hostTypeError(type, value);
    const length = value.length;
    const byteLength = length * elem.size;
    const ptr = cx.realloc(0, 0, elem.align, byteLength) >>> 0;
    checkRange(cx, ptr, byteLength, elem.align, 'realloc result');
    if (isBytes && value instanceof Uint8Array) {
      cx.memory.bytes.set(value, ptr);
    } else {
      for (let i = 0; i < length; i++) elem.store(cx, ptr + i * elem.size, value[i]);
    }
    return [ptr, length];
  };
  const type: ValType = {
    name: `list<${elem.name}>`,
    size: 8,
    align: 4,
    flat: ['i32', 'i32'],
    load: (cx, ptr) => {
      const view = cx.memory.view;
      return loadRange(cx, view.getUint32(ptr, true), view.getUint32(ptr + 4, true));
    },
    store: (cx, ptr, value) => {
      const [begin, length] = storeRange(cx, value);
      const view = cx.memory.view;
      view.setUint32(ptr, begin, true);
      view.setUint32(ptr + 4, length, true);
    },
    lift: (cx, from) => {
      const ptr = Number(from.next('i32')) >>> 0;
      return loadRange(cx, ptr, Number(from.next('i32')) >>> 0);
    },
    lower: (cx, value, out) => void out.push(...storeRange(cx, value)),
    accepts: isArrayLike,
  };
  return type;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

// ---------------------------------------------------------------------------------------------
// Records and tuples: fields laid out in order, each at its own alignment.

interface Layout {
  offsets: number[];
  size: number;
  align: number;
}

function layoutOf(types: readonly ValType[]): Layout {
  let size = 0;
  let align = 1;
  const offsets = types.map((t) => {
    size = alignTo(size, t.align);
    const offset = size;
    size += t.size;
    align = Math.max(align, t.align);
    return offset;
  });
  return { offsets, size: alignTo(size, align), align };
}

/** `first-second` -> `firstSecond`, the JS spelling of a WIT name. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Fields in WIT order, keyed by their WIT (kebab-case) names. */
export function record(fields: Record<string, ValType>): ValType {
  const entries = Object.entries(fields);
  const keys = entries.map(([name]) => camelCase(name));
  const types = entries.map(([, t]) => t);
  const { offsets, size, align } = layoutOf(types);
  const type: ValType = {
    name: `record{${entries.map(([name, t]) => `${name}: ${t.name}`).join(', ')}}`,
    size,
    align,
    flat: types.flatMap((t) => t.flat),
    load: (cx, ptr) => {
      const value: Record<string, unknown> = {};
      for (let i = 0; i < types.length; i++) value[keys[i]!] = types[i]!.load(cx, ptr + offsets[i]!);
      return value;
    },
    store: (cx, ptr, value) => {
      if (typeof value !== 'object' || value === null) hostTypeError(type, value);
      const fieldsOf = value as Record<string, unknown>;
      for (let i = 0; i < types.length; i++) types[i]!.store(cx, ptr + offsets[i]!, fieldsOf[keys[i]!]);
    },
    lift: (cx, from) => {
      const value: Record<string, unknown> = {};
      for (let i = 0; i < types.length; i++) value[keys[i]!] = types[i]!.lift(cx, from);
      return value;
    },
    lower: (cx, value, out) => {
      if (typeof value !== 'object' || value === null) hostTypeError(type, value);
      const fieldsOf = value as Record<string, unknown>;
      for (let i = 0; i < types.length; i++) types[i]!.lower(cx, fieldsOf[keys[i]!], out);
    },
    accepts: (value) => typeof value === 'object' && value !== null,
  };
  return type;
}

/** A tuple is a record with positional fields; its JS value is an array. */
export function tuple(...types: ValType[]): ValType {
  const { offsets, size, align } = layoutOf(types);
  const type: ValType = {
    name: `tuple<${types.map((t) => t.name).join(', ')}>`,
    size,
    align,
    flat: types.flatMap((t) => t.flat),
    load: (cx, ptr) => types.map((t, i) => t.load(cx, ptr + offsets[i]!)),
    store: (cx, ptr, value) => {
      if (!isArrayLike(value)) hostTypeError(type, value);
      for (let i = 0; i < types.length; i++) types[i]!.store(cx, ptr + offsets[i]!, value[i]);
    },
    lift: (cx, from) => types.map((t) => t.lift(cx, from)),
    lower: (cx, value, out) => {
      if (!isArrayLike(value)) hostTypeError(type, value);
      for (let i = 0; i < types.length; i++) types[i]!.lower(cx, value[i], out);
    },
    accepts: isArrayLike,
  };
  return type;
}

// ---------------------------------------------------------------------------------------------
// Variants and their specialisations (enum, option, result).

function discriminantSize(caseCount: number): 1 | 2 | 4 {
  return caseCount <= 0x100 ? 1 : caseCount <= 0x10000 ? 2 : 4;
}

function join(a: CoreType, b: CoreType): CoreType {
  if (a === b) return a;
  if ((a === 'i32' && b === 'f32') || (a === 'f32' && b === 'i32')) return 'i32';
  return 'i64';
}

const scratch = new DataView(new ArrayBuffer(8));

/** A case payload's flat value, stored in the variant's joined core type (spec: lower_flat_variant). */
function widen(value: CoreValue, have: CoreType, want: CoreType): CoreValue {
  if (have === want) return value;
  if (have === 'f32') {
    scratch.setFloat32(0, Number(value), true);
    const bits = scratch.getUint32(0, true);
    return want === 'i32' ? bits | 0 : BigInt(bits);
  }
  if (have === 'f64') {
    scratch.setFloat64(0, Number(value), true);
    return scratch.getBigInt64(0, true);
  }
  // i32 -> i64: zero-extended.
  return BigInt(Number(value) >>> 0);
}

/** The inverse of widen (spec: lift_flat_variant's CoerceValueIter). */
function narrow(value: CoreValue, have: CoreType, want: CoreType): CoreValue {
  if (have === want) return value;
  if (have === 'i64') {
    if (want === 'f64') {
      scratch.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
      return scratch.getFloat64(0, true);
    }
    const low = Number(BigInt.asUintN(32, BigInt(value)));
    if (want === 'i32') return low | 0;
    scratch.setUint32(0, low, true);
    return scratch.getFloat32(0, true);
  }
  // i32 -> f32
  scratch.setInt32(0, Number(value), true);
  return scratch.getFloat32(0, true);
}

const zeroOf = (t: CoreType): CoreValue => (t === 'i64' ? 0n : 0);

export interface VariantCase {
  /** The WIT case name. */
  readonly name: string;
  readonly type: ValType | undefined;
}

interface VariantLayout {
  name: string;
  size: number;
  align: number;
  flat: CoreType[];
  discriminantSize: 1 | 2 | 4;
  payloadOffset: number;
}

function variantLayout(name: string, cases: readonly VariantCase[]): VariantLayout {
  const discSize = discriminantSize(cases.length);
  let maxCaseAlign = 1;
  let maxCaseSize = 0;
  const joined: CoreType[] = [];
  for (const c of cases) {
    if (!c.type) continue;
    maxCaseAlign = Math.max(maxCaseAlign, c.type.align);
    maxCaseSize = Math.max(maxCaseSize, c.type.size);
    c.type.flat.forEach((t, i) => (joined[i] = i < joined.length ? join(joined[i]!, t) : t));
  }
  const align = Math.max(discSize, maxCaseAlign);
  const payloadOffset = alignTo(discSize, maxCaseAlign);
  return {
    name,
    size: alignTo(payloadOffset + maxCaseSize, align),
    align,
    flat: ['i32', ...joined],
    discriminantSize: discSize,
    payloadOffset,
  };
}

/**
 * The one variant implementation; `toCase`/`fromCase` map between the JS shape (a `{tag, val}`
 * object, an enum string, an optional value) and the case index plus payload.
 */
function variantType(
  layout: VariantLayout,
  cases: readonly VariantCase[],
  toCase: (value: unknown) => { index: number; payload: unknown } | undefined,
  fromCase: (index: number, payload: unknown) => unknown,
): ValType {
  const { discriminantSize: discSize, payloadOffset } = layout;
  const payloadFlat = layout.flat.slice(1);
  const caseOf = (value: unknown) => toCase(value) ?? hostTypeError(type, value);
  const checkIndex = (index: number) => {
    if (index >= cases.length) trap(`${index} is not a case of ${layout.name}`);
    return cases[index]!;
  };
  const type: ValType = {
    name: layout.name,
    size: layout.size,
    align: layout.align,
    flat: layout.flat,
    load: (cx, ptr) => {
      const view = cx.memory.view;
      const index =
        discSize === 1 ? view.getUint8(ptr) : discSize === 2 ? view.getUint16(ptr, true) : view.getUint32(ptr, true);
      const c = checkIndex(index);
      return fromCase(index, c.type?.load(cx, ptr + payloadOffset));
    },
    store: (cx, ptr, value) => {
      const { index, payload } = caseOf(value);
      const view = cx.memory.view;
      if (discSize === 1) view.setUint8(ptr, index);
      else if (discSize === 2) view.setUint16(ptr, index, true);
      else view.setUint32(ptr, index, true);
      cases[index]!.type?.store(cx, ptr + payloadOffset, payload);
    },
    lift: (cx, from) => {
      const index = Number(from.next('i32')) >>> 0;
      const c = checkIndex(index);
      let consumed = 0;
      const payload = c.type?.lift(cx, {
        next: (want) => narrow(from.next(payloadFlat[consumed]!), payloadFlat[consumed++]!, want),
      });
      for (; consumed < payloadFlat.length; consumed++) from.next(payloadFlat[consumed]!);
      return fromCase(index, payload);
    },
    lower: (cx, value, out) => {
      const { index, payload } = caseOf(value);
      out.push(index);
      const caseType = cases[index]!.type;
      let written = 0;
      if (caseType) {
        const values: CoreValue[] = [];
        caseType.lower(cx, payload, values);
        for (; written < values.length; written++) {
          out.push(widen(values[written]!, caseType.flat[written]!, payloadFlat[written]!));
        }
      }
      for (; written < payloadFlat.length; written++) out.push(zeroOf(payloadFlat[written]!));
    },
    accepts: (value) => {
      const found = toCase(value);
      if (!found) return false;
      const caseType = cases[found.index]!.type;
      return caseType === undefined || caseType.accepts(found.payload);
    },
  };
  return type;
}

/** Cases in WIT order; a case without payload has type undefined. JS value: `{tag, val}`. */
export function variant(cases: Record<string, ValType | undefined>): ValType {
  const list = Object.entries(cases).map(([name, type]) => ({ name, type }));
  const indexOf = new Map(list.map((c, i) => [c.name, i]));
  const layout = variantLayout(`variant{${list.map((c) => c.name).join(', ')}}`, list);
  return variantType(
    layout,
    list,
    (value) => {
      const tag = typeof value === 'object' && value !== null ? (value as { tag?: unknown }).tag : undefined;
      const index = typeof tag === 'string' ? indexOf.get(tag) : undefined;
      return index === undefined ? undefined : { index, payload: (value as { val?: unknown }).val };
    },
    (index, payload) => (list[index]!.type ? { tag: list[index]!.name, val: payload } : { tag: list[index]!.name }),
  );
}

/** Case names in WIT order; JS value: the case name. */
export function enumeration(...names: string[]): ValType {
  const list = names.map((name) => ({ name, type: undefined }));
  const indexOf = new Map(names.map((name, i) => [name, i]));
  const layout = variantLayout(`enum{${names.join(', ')}}`, list);
  return variantType(
    layout,
    list,
    (value) => {
      const index = typeof value === 'string' ? indexOf.get(value) : undefined;
      return index === undefined ? undefined : { index, payload: undefined };
    },
    (index) => names[index],
  );
}

/** JS value: the payload, or undefined (null accepted from the host) for none. */
export function option(inner: ValType): ValType {
  const cases = [
    { name: 'none', type: undefined },
    { name: 'some', type: inner },
  ];
  return variantType(
    variantLayout(`option<${inner.name}>`, cases),
    cases,
    (value) =>
      value === undefined || value === null ? { index: 0, payload: undefined } : { index: 1, payload: value },
    (index, payload) => (index === 0 ? undefined : payload),
  );
}

/**
 * A result as a value: `{tag: 'ok' | 'err', val}`. At the top of a host function's return type
 * it is unwrapped instead (return for ok, throw for err): see functions.ts.
 */
export function result(ok?: ValType, err?: ValType): ResultType {
  const cases = [
    { name: 'ok', type: ok },
    { name: 'error', type: err },
  ];
  const tags = ['ok', 'err'] as const;
  const type = variantType(
    variantLayout(`result<${ok?.name ?? '_'}, ${err?.name ?? '_'}>`, cases),
    cases,
    (value) => {
      const tag = typeof value === 'object' && value !== null ? (value as { tag?: unknown }).tag : undefined;
      const index = tag === 'ok' ? 0 : tag === 'err' ? 1 : undefined;
      return index === undefined ? undefined : { index, payload: (value as { val?: unknown }).val };
    },
    (index, payload) => ({ tag: tags[index], val: payload }),
  );
  return Object.assign(type, { ok, err, isResult: true as const });
}

export interface ResultType extends ValType {
  readonly ok: ValType | undefined;
  readonly err: ValType | undefined;
  readonly isResult: true;
}

export function isResultType(type: ValType | undefined): type is ResultType {
  return (type as Partial<ResultType> | undefined)?.isResult === true;
}

// ---------------------------------------------------------------------------------------------
// Flags: a bit vector, one bit per label in WIT order. JS value: object of camelCase booleans.

export function flags(...labels: string[]): ValType {
  if (labels.length === 0 || labels.length > 32) throw new RangeError('flags need 1 to 32 labels');
  const keys = labels.map(camelCase);
  const size = labels.length <= 8 ? 1 : labels.length <= 16 ? 2 : 4;
  const pack = (value: unknown): number => {
    if (typeof value !== 'object' || value === null) hostTypeError(type, value);
    let bits = 0;
    keys.forEach((key, i) => {
      if ((value as Record<string, unknown>)[key]) bits |= 1 << i;
    });
    return bits;
  };
  // Bits beyond the labels are ignored, as unpack_flags_from_int does.
  const unpack = (bits: number): Record<string, boolean> => {
    const value: Record<string, boolean> = {};
    keys.forEach((key, i) => (value[key] = (bits & (1 << i)) !== 0));
    return value;
  };
  const type: ValType = {
    name: `flags{${labels.join(', ')}}`,
    size,
    align: size,
    flat: ['i32'],
    load: (cx, ptr) => {
      const view = cx.memory.view;
      return unpack(
        size === 1 ? view.getUint8(ptr) : size === 2 ? view.getUint16(ptr, true) : view.getUint32(ptr, true),
      );
    },
    store: (cx, ptr, value) => {
      const bits = pack(value);
      const view = cx.memory.view;
      if (size === 1) view.setUint8(ptr, bits);
      else if (size === 2) view.setUint16(ptr, bits, true);
      else view.setUint32(ptr, bits, true);
    },
    lift: (_cx, from) => unpack(Number(from.next('i32'))),
    lower: (_cx, value, out) => void out.push(pack(value)),
    accepts: (value) => typeof value === 'object' && value !== null,
  };
  return type;
}

// ---------------------------------------------------------------------------------------------
// Handles: an i32 index into the guest's table for the resource type.

function handleType(
  kind: 'own' | 'borrow',
  resource: ResourceType,
  liftIndex: (cx: CallContext, index: number) => unknown,
): ValType {
  const lower = (cx: CallContext, value: unknown): number => cx.tables.table(resource).add(value, kind === 'own');
  return {
    name: `${kind}<${resource.name}>`,
    size: 4,
    align: 4,
    flat: ['i32'],
    load: (cx, ptr) => liftIndex(cx, cx.memory.view.getUint32(ptr, true)),
    store: (cx, ptr, value) => cx.memory.view.setUint32(ptr, lower(cx, value), true),
    lift: (cx, from) => liftIndex(cx, Number(from.next('i32')) >>> 0),
    lower: (cx, value, out) => void out.push(lower(cx, value)),
    accepts: (value) => typeof value === 'object' && value !== null,
  };
}

/** Passing an own handle to the host moves the resource out of the guest's table. */
export function own(resource: ResourceType): ValType {
  return handleType('own', resource, (cx, index) => cx.tables.table(resource).removeOwn(index));
}

/**
 * A borrow leaves the guest's handle in place. Calls are synchronous and the host keeps no
 * borrowed object past the call, so the spec's lend counting could never observe a lend: the
 * guest cannot drop a handle while it is blocked in a host call.
 */
export function borrow(resource: ResourceType): ValType {
  return handleType('borrow', resource, (cx, index) => cx.tables.table(resource).get(index));
}
