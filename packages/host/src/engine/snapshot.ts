/**
 * A sandbox's state as bytes: what differs from the artifact's base image (changed 4 KiB
 * blocks, compressed), the instance state that lives outside memory (globals, handle tables,
 * the scratch directory's names), the scratch directory's bytes, and the artifact's identity,
 * so a snapshot is only ever restored over the code that made it.
 *
 *   "CSBXSNAP" | u32 format version | u32 header length | header (JSON)
 *     | deflate(changed memory blocks XOR the base image ++ scratch bytes)
 *
 * A call changes a few bytes here and there (reference counts, a dict's slots): XOR against the
 * base image leaves mostly zeros, which compress about 5x better, and faster, than the blocks.
 */
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { WASM_PAGE_BYTES } from '@component-sandbox/wit';
import { InvalidInputError } from '../errors.js';
import type { ResolvedLimits } from '../options.js';
import { SCRATCH_BLOCK_BYTES, SCRATCH_ROOT_INO, usedScratchBytes, type ScratchMeta } from '../wasi/scratch-store.js';
import type { EngineGuest } from './engine-guest.js';
import { takeGuestMemory } from './memory-stock.js';
import type { InstanceState } from './executor-protocol.js';
import { copyScratch, type CoreContents, type SandboxCore } from './sandbox-core.js';

const MAGIC = Buffer.from('CSBXSNAP', 'latin1');
/**
 * Memory is compared with the base image in blocks of this size: a call dirties small,
 * scattered parts of the heap, so blocks smaller than a wasm page keep snapshots small.
 */
const BLOCK_BYTES = 4096;
const BLOCKS_PER_PAGE = WASM_PAGE_BYTES / BLOCK_BYTES;
/** 2 added the scratch directory; 3 stores memory blocks XOR the base image. 1 and 2 are still read. */
export const SNAPSHOT_FORMAT_VERSION = 3;
const READABLE_VERSIONS = new Set([1, 2, 3]);
const FIRST_XOR_VERSION = 3;
const PREFIX_BYTES = MAGIC.length + 8;

interface SnapshotHeader {
  /** EngineGuest.hash of the artifact the state belongs to. */
  artifact: string;
  language: string;
  memoryPages: number;
  /** Blocks stored, in order, each BLOCK_BYTES long in the deflated body. */
  blocks: number[];
  /** Absent when the sandbox never ran a call. */
  state?: { globals: Array<number | { bigint: string }>; tables: unknown };
  /** The scratch directory's metadata; its used bytes follow the memory blocks in the body. */
  scratch?: ScratchMeta;
}

export interface SnapshotContents {
  memoryPages: number;
  state: InstanceState | undefined;
  /** A fresh memory (and scratch buffer) holding the snapshot's contents. */
  restore(): CoreContents;
}

/** Base image pages, built once per guest, to compare memory against page by page. */
const basePages = new WeakMap<EngineGuest, Buffer>();

function baseImage(guest: EngineGuest): Buffer {
  let image = basePages.get(guest);
  if (!image) {
    // Buffer.alloc gives the image an ArrayBuffer of its own: word views of it are aligned.
    image = Buffer.alloc(guest.initialPages * WASM_PAGE_BYTES);
    for (const run of guest.baseImage) image.set(run.bytes, run.offset);
    basePages.set(guest, image);
  }
  return image;
}

const ZERO_PAGE = Buffer.alloc(WASM_PAGE_BYTES);
const BLOCK_WORDS = BLOCK_BYTES / 4;

function wordsOf(bytes: Uint8Array, byteOffset: number): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset + byteOffset, BLOCK_WORDS);
}

/** Writes `a` XOR `b` (b's block: zeros past its end) into `into`, a word at a time. */
function xorBlock(into: Int32Array, a: Int32Array, base: Buffer, start: number): void {
  if (start >= base.length) {
    into.set(a);
    return;
  }
  const b = wordsOf(base, start);
  for (let i = 0; i < BLOCK_WORDS; i += 1) into[i] = a[i]! ^ b[i]!;
}

/**
 * zlib's fastest level: on a session's XOR-ed blocks it is several times faster than the
 * default level 6 for a few more bytes.
 */
const DEFLATE_LEVEL = 1;
const deflateRawAsync = promisify(deflateRaw);

/** A snapshot before compression: its header, and the bytes its body compresses. */
interface Captured {
  /** Serialised at capture time, so later changes to the sandbox's state cannot reach it. */
  headerBytes: Buffer;
  raw: Buffer;
}

/** Whether `bytes[start, end)` equals `original` over the same range (zeros past its end). */
function unchanged(bytes: Buffer, original: Buffer, start: number, end: number): boolean {
  if (start >= original.length) return bytes.compare(ZERO_PAGE, 0, end - start, start, end) === 0;
  return bytes.compare(original, start, end, start, end) === 0;
}

function capture(core: SandboxCore): Captured {
  const { guest, memory, state, scratch } = core;
  const bytes = Buffer.from(memory.buffer);
  const base = baseImage(guest);
  const memoryPages = bytes.length / WASM_PAGE_BYTES;
  const blocks: number[] = [];
  // Ranges are compared in place (Buffer#compare): most pages are unchanged, and a subarray per
  // block made the comparison cost more than the compression.
  for (let page = 0; page < memoryPages; page += 1) {
    const pageStart = page * WASM_PAGE_BYTES;
    if (unchanged(bytes, base, pageStart, pageStart + WASM_PAGE_BYTES)) continue;
    for (let block = page * BLOCKS_PER_PAGE; block < (page + 1) * BLOCKS_PER_PAGE; block += 1) {
      const start = block * BLOCK_BYTES;
      if (!unchanged(bytes, base, start, start + BLOCK_BYTES)) blocks.push(block);
    }
  }
  const scratchBytes = scratch ? usedScratchBytes(scratch.meta) : 0;
  // A copy either way: the guest's memory is shared, and what the compressor reads must not
  // change under it.
  const raw = Buffer.alloc(blocks.length * BLOCK_BYTES + scratchBytes);
  blocks.forEach((block, i) =>
    xorBlock(wordsOf(raw, i * BLOCK_BYTES), wordsOf(bytes, block * BLOCK_BYTES), base, block * BLOCK_BYTES),
  );
  if (scratch) raw.set(new Uint8Array(scratch.buffer, 0, scratchBytes), blocks.length * BLOCK_BYTES);
  const header: SnapshotHeader = {
    artifact: guest.hash,
    language: guest.language,
    memoryPages,
    blocks,
    ...(state
      ? {
          state: {
            globals: state.globals.map((v) => (typeof v === 'bigint' ? { bigint: v.toString() } : v)),
            tables: state.tables,
          },
        }
      : {}),
    ...(scratch ? { scratch: scratch.meta } : {}),
  };
  return { headerBytes: Buffer.from(JSON.stringify(header), 'utf8'), raw };
}

function assemble(headerBytes: Buffer, body: Buffer): Uint8Array {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix);
  prefix.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, MAGIC.length);
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length + 4);
  return Buffer.concat([prefix, headerBytes, body]);
}

export function encodeSnapshot(core: SandboxCore): Uint8Array {
  const { headerBytes, raw } = capture(core);
  return assemble(headerBytes, deflateRawSync(raw, { level: DEFLATE_LEVEL }));
}

/**
 * The same bytes, compressed on libuv's thread pool rather than the caller's event loop. The
 * state is read at once; what happens to the sandbox while it compresses does not reach it.
 */
export async function encodeSnapshotOffThread(core: SandboxCore): Promise<Uint8Array> {
  const { headerBytes, raw } = capture(core);
  return assemble(headerBytes, await deflateRawAsync(raw, { level: DEFLATE_LEVEL }));
}

/**
 * The bytes a snapshot's scratch metadata accounts for, after checking that it is a coherent
 * tree: a forged snapshot must not be able to name blocks outside its bytes or loop the walker.
 */
function checkScratchMeta(meta: ScratchMeta): number {
  const blocks = meta?.usedBlocks;
  if (!Number.isSafeInteger(blocks) || blocks < 0 || !Array.isArray(meta.free) || typeof meta.nodes !== 'object') {
    invalid('its /tmp description is malformed');
  }
  const owned = new Set<number>(meta.free);
  for (const node of Object.values(meta.nodes)) {
    // A symlink holds no blocks; its target is checked again whenever it is followed, so a
    // forged one can name nothing outside /tmp.
    const symlinkOk = node?.type === 'symlink' && typeof node.target === 'string' && node.target.length <= 4096;
    const list = node?.type === 'file' ? node.blocks : node?.type === 'directory' || symlinkOk ? [] : undefined;
    if (!list) invalid('its /tmp description is malformed');
    if (node.type === 'file' && (!Number.isSafeInteger(node.size) || node.size > list.length * SCRATCH_BLOCK_BYTES)) {
      invalid('its /tmp description is malformed');
    }
    for (const block of list) {
      if (!Number.isSafeInteger(block) || block < 0 || block >= blocks || owned.has(block)) {
        invalid('its /tmp description is malformed');
      }
      owned.add(block);
    }
  }
  if (!meta.nodes[SCRATCH_ROOT_INO] || meta.nodes[SCRATCH_ROOT_INO].type !== 'directory') {
    invalid('its /tmp description is malformed');
  }
  // Every entry names a node, and every directory's parents lead to the root (no cycles).
  const count = Object.keys(meta.nodes).length;
  for (const node of Object.values(meta.nodes)) {
    if (node.type !== 'directory') continue;
    if (Object.values(node.entries).some((ino) => !meta.nodes[ino])) invalid('its /tmp description is malformed');
    let at = node;
    for (let steps = 0; at !== meta.nodes[SCRATCH_ROOT_INO]; steps++) {
      const parent = meta.nodes[at.parent];
      if (steps > count || parent?.type !== 'directory') invalid('its /tmp description is malformed');
      at = parent;
    }
  }
  return usedScratchBytes(meta);
}

function invalid(message: string): never {
  throw new InvalidInputError(`not a usable sandbox snapshot: ${message}`);
}

/** Reads and checks a snapshot against the guest it is to be restored over. */
export function decodeSnapshot(guest: EngineGuest, snapshot: Uint8Array, limits: ResolvedLimits): SnapshotContents {
  const maxPages = limits.memoryLimitPages;
  const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  if (bytes.length < PREFIX_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    invalid('it does not start with CSBXSNAP');
  const version = bytes.readUInt32LE(MAGIC.length);
  if (!READABLE_VERSIONS.has(version))
    invalid(`format version ${version}; this host reads ${[...READABLE_VERSIONS].join(' and ')}`);
  const headerLength = bytes.readUInt32LE(MAGIC.length + 4);
  if (PREFIX_BYTES + headerLength > bytes.length) invalid('its header is cut short');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength)) as SnapshotHeader;
  } catch {
    invalid('its header is not JSON');
  }
  if (header.artifact !== guest.hash) {
    invalid(
      `it was taken from another guest artifact (${String(header.language)}, ${String(header.artifact).slice(0, 12)}) ` +
        `than this one (${guest.language}, ${guest.hash.slice(0, 12)})`,
    );
  }
  const { memoryPages, blocks } = header;
  if (!Number.isSafeInteger(memoryPages) || memoryPages < guest.initialPages || memoryPages > 65536) {
    invalid(`its memory size of ${String(memoryPages)} pages is impossible`);
  }
  if (memoryPages > maxPages) {
    throw new InvalidInputError(
      `the snapshot holds ${memoryPages * WASM_PAGE_BYTES} bytes of memory, above this sandbox's memory limit of ${maxPages * WASM_PAGE_BYTES}`,
    );
  }
  const blockCount = memoryPages * BLOCKS_PER_PAGE;
  if (
    !Array.isArray(blocks) ||
    blocks.some((b, i) => !Number.isSafeInteger(b) || b < 0 || b >= blockCount || (i > 0 && b <= blocks[i - 1]!))
  ) {
    invalid('its block list is malformed');
  }
  const scratchMeta = header.scratch;
  const scratchBytes = scratchMeta ? checkScratchMeta(scratchMeta) : 0;
  if (scratchMeta && !guest.virtualRoot) invalid('it holds a /tmp, which this guest cannot have');
  if (scratchBytes > limits.tmpLimitBytes) {
    throw new InvalidInputError(
      `the snapshot's /tmp holds ${scratchBytes} bytes, above this sandbox's tmpLimitBytes of ${limits.tmpLimitBytes}`,
    );
  }
  const memoryBlockBytes = blocks.length * BLOCK_BYTES;
  let body: Buffer;
  try {
    body = inflateRawSync(bytes.subarray(PREFIX_BYTES + headerLength), {
      // zlib refuses a maximum of 0: a fresh sandbox (e.g. just reset) has no changed block.
      maxOutputLength: Math.max(1, memoryBlockBytes + scratchBytes),
    });
  } catch {
    invalid('its memory blocks do not decompress');
  }
  if (body.length !== memoryBlockBytes + scratchBytes) invalid('its memory blocks are cut short');
  // Word views need a 4-byte aligned start; zlib's output buffer need not have one.
  if (body.byteOffset % 4 !== 0) body = Buffer.from(new Uint8Array(body));
  const state: InstanceState | undefined = header.state
    ? {
        globals: header.state.globals.map((v) => (typeof v === 'object' && v !== null ? BigInt(v.bigint) : v)),
        tables: header.state.tables,
      }
    : undefined;
  return {
    memoryPages,
    state,
    restore() {
      const memory = takeGuestMemory(guest, maxPages);
      if (memory.buffer.byteLength < memoryPages * WASM_PAGE_BYTES) {
        memory.grow(memoryPages - memory.buffer.byteLength / WASM_PAGE_BYTES);
      }
      const view = new Uint8Array(memory.buffer);
      // The fresh memory holds the base image (zeros past it): XOR-ing the delta in gives the block.
      blocks.forEach((block, i) => {
        const stored = body.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES);
        if (version < FIRST_XOR_VERSION) view.set(stored, block * BLOCK_BYTES);
        else {
          const target = wordsOf(view, block * BLOCK_BYTES);
          const delta = new Int32Array(stored.buffer, stored.byteOffset, BLOCK_WORDS);
          for (let w = 0; w < BLOCK_WORDS; w += 1) target[w] = target[w]! ^ delta[w]!;
        }
      });
      const contents: CoreContents = { memory, ...(state ? { state } : {}) };
      if (scratchMeta) {
        contents.scratch = copyScratch(
          { bytes: body.subarray(memoryBlockBytes), meta: scratchMeta },
          limits.tmpLimitBytes,
        );
      }
      return contents;
    },
  };
}
