/**
 * A sandbox's state as bytes: what differs from the artifact's base image (changed 4 KiB
 * blocks, compressed), the instance state that lives outside memory (globals, handle tables,
 * the scratch directory's names), the scratch directory's bytes, and the artifact's identity,
 * so a snapshot is only ever restored over the code that made it.
 *
 *   "CSBXSNAP" | u32 format version | u32 header length | header (JSON)
 *     | deflate(changed memory blocks ++ scratch bytes)
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { WASM_PAGE_BYTES } from '@component-sandbox/wit';
import { InvalidInputError } from '../errors.js';
import type { ResolvedLimits } from '../options.js';
import { SCRATCH_BLOCK_BYTES, SCRATCH_ROOT_INO, usedScratchBytes, type ScratchMeta } from '../wasi/scratch-store.js';
import { createGuestMemory, type EngineGuest } from './engine-guest.js';
import type { InstanceState } from './executor-protocol.js';
import { copyScratch, type CoreContents, type SandboxCore } from './sandbox-core.js';

const MAGIC = Buffer.from('CSBXSNAP', 'latin1');
/**
 * Memory is compared with the base image in blocks of this size: a call dirties small,
 * scattered parts of the heap, so blocks smaller than a wasm page keep snapshots small.
 */
const BLOCK_BYTES = 4096;
const BLOCKS_PER_PAGE = WASM_PAGE_BYTES / BLOCK_BYTES;
/** 2 added the scratch directory; version 1 snapshots (none) are still read. */
export const SNAPSHOT_FORMAT_VERSION = 2;
const READABLE_VERSIONS = new Set([1, 2]);
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
    image = Buffer.alloc(guest.initialPages * WASM_PAGE_BYTES);
    for (const run of guest.baseImage) image.set(run.bytes, run.offset);
    basePages.set(guest, image);
  }
  return image;
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_BYTES);

export function encodeSnapshot(core: SandboxCore): Uint8Array {
  const { guest, memory, state, scratch } = core;
  const bytes = Buffer.from(memory.buffer);
  const base = baseImage(guest);
  const memoryPages = bytes.length / WASM_PAGE_BYTES;
  const blocks: number[] = [];
  const chunks: Buffer[] = [];
  for (let block = 0; block < memoryPages * BLOCKS_PER_PAGE; block += 1) {
    const start = block * BLOCK_BYTES;
    const current = bytes.subarray(start, start + BLOCK_BYTES);
    const original = start < base.length ? base.subarray(start, start + BLOCK_BYTES) : ZERO_BLOCK;
    if (current.equals(original)) continue;
    blocks.push(block);
    // Copied: the guest's memory is shared, and the copy must not change under the compressor.
    chunks.push(Buffer.from(current));
  }
  if (scratch) chunks.push(Buffer.from(new Uint8Array(scratch.buffer, 0, usedScratchBytes(scratch.meta))));
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
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const body = deflateRawSync(Buffer.concat(chunks), { level: 6 });
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix);
  prefix.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, MAGIC.length);
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length + 4);
  return Buffer.concat([prefix, headerBytes, body]);
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
    const list = node?.type === 'file' ? node.blocks : node?.type === 'directory' ? [] : undefined;
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
      const memory = createGuestMemory(guest, maxPages);
      if (memory.buffer.byteLength < memoryPages * WASM_PAGE_BYTES) {
        memory.grow(memoryPages - memory.buffer.byteLength / WASM_PAGE_BYTES);
      }
      const view = new Uint8Array(memory.buffer);
      blocks.forEach((block, i) =>
        view.set(body.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES), block * BLOCK_BYTES),
      );
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
