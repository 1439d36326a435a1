/**
 * A guest artifact prepared for the engine, once per process: its modules rewritten (guest-
 * image.ts) and compiled once for every memory limit, and its base image, from which each new
 * sandbox's memory is made.
 */
import { createHash } from 'node:crypto';
import { WASM_PAGE_BYTES, type InterruptInfo } from '@component-sandbox/wit';
import { ArtifactError } from '../errors.js';
import type { LoadedGuest } from '../guest.js';
import type { ReadOnlyMount } from '../wasi/index.js';
import { rewriteModule, type DataSegment } from './guest-image.js';

export interface EngineGuest {
  /** Names the guest to executors. */
  readonly key: string;
  /** Identity of the artifact's code: snapshots are bound to it. */
  readonly hash: string;
  readonly language: string;
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  readonly mounts: readonly ReadOnlyMount[];
  /** The guest routes `/` through the host: it gets a scratch `/tmp` and run-time mounts. */
  readonly virtualRoot: boolean;
  /** Trees of the artifact seen through `/` only. */
  readonly routedMounts: readonly ReadOnlyMount[];
  readonly initialPages: number;
  /** The initial memory's contents as runs of bytes (the data segments, merged). */
  readonly baseImage: readonly DataSegment[];
  readonly interrupt: InterruptInfo | undefined;
}

const prepared = new Map<string, Promise<EngineGuest>>();

/** Segments closer than this are copied as one run: fewer, longer copies are faster. */
const MERGE_GAP_BYTES = 4096;

function mergeSegments(segments: readonly DataSegment[], totalBytes: number): DataSegment[] {
  const image = new Uint8Array(totalBytes);
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  const runs: Array<{ start: number; end: number }> = [];
  for (const segment of sorted) {
    const end = segment.offset + segment.bytes.length;
    if (end > totalBytes) throw new ArtifactError('a data segment lies outside the initial memory');
    image.set(segment.bytes, segment.offset);
    const last = runs.at(-1);
    if (last && segment.offset - last.end <= MERGE_GAP_BYTES) last.end = Math.max(last.end, end);
    else runs.push({ start: segment.offset, end });
  }
  return runs.map((run) => ({ offset: run.start, bytes: image.slice(run.start, run.end) }));
}

export function prepareEngineGuest(guest: LoadedGuest): Promise<EngineGuest> {
  let pending = prepared.get(guest.dir);
  if (!pending) {
    pending = build(guest);
    prepared.set(guest.dir, pending);
    pending.catch(() => prepared.delete(guest.dir));
  }
  return pending;
}

async function build(guest: LoadedGuest): Promise<EngineGuest> {
  const modules = new Map<string, WebAssembly.Module>();
  let initialPages: number | undefined;
  let segments: DataSegment[] = [];
  const hash = createHash('sha256');
  for (const entry of guest.manifest.coreModules) {
    hash.update(entry.sha256);
    const bytes = guest.moduleBytes.get(entry.file)!;
    try {
      const rewritten = rewriteModule(bytes);
      if (rewritten.definedMemoryPages !== undefined) {
        initialPages = rewritten.definedMemoryPages;
        segments = rewritten.segments;
      }
      modules.set(entry.file, await WebAssembly.compile(rewritten.bytes));
    } catch (error) {
      throw new ArtifactError(`${guest.dir}/${entry.file} cannot be prepared: ${(error as Error).message}`);
    }
  }
  if (initialPages === undefined) throw new ArtifactError(`${guest.dir}: no core module defines a memory`);
  return {
    key: guest.dir,
    hash: hash.digest('hex'),
    language: guest.manifest.language,
    modules,
    mounts: guest.mounts,
    virtualRoot: guest.virtualRoot,
    routedMounts: guest.routedMounts,
    initialPages,
    baseImage: mergeSegments(segments, initialPages * WASM_PAGE_BYTES),
    interrupt: guest.manifest.interrupt,
  };
}

/** A fresh memory holding the guest's base image, growable up to `maxPages`. */
export function createGuestMemory(guest: EngineGuest, maxPages: number): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ initial: guest.initialPages, maximum: maxPages, shared: true });
  const view = new Uint8Array(memory.buffer);
  for (const run of guest.baseImage) view.set(run.bytes, run.offset);
  return memory;
}
