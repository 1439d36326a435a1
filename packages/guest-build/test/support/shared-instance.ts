/**
 * Test support: runs a built artifact in this thread the way the round-2 host will, with the
 * guest's linear memory a shared memory (SharedArrayBuffer) that other threads can write to.
 * WASI comes from @bytecodealliance/preview2-shim (the implementation jco's glue targets), with
 * the artifact's read-only trees as preopens in manifest order; the `host` interface of world
 * sandbox-extended offers no functions.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as shim from '@bytecodealliance/preview2-shim';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { HOST_INTERFACE, MANIFEST_FILE, manifestSchema, type GuestManifest } from '@component-sandbox/wit';
import { ByteReader as Reader, SECTION, encodeU32, readSections, replaceSection } from '@component-sandbox/wit';
import { skipValueType } from '../../src/wasm/binary.js';

export interface SharedInstance {
  manifest: GuestManifest;
  memory: WebAssembly.Memory;
  /** Calls an export; resolves to the ok value, or rejects with the err string or the trap. */
  eval(expression: string): string;
  exec(statements: string): void;
}

/** Limits flags: has a maximum, shared. */
const SHARED_WITH_MAX = 0x03;

function limits(initial: number, maximum: number): number[] {
  return [SHARED_WITH_MAX, ...encodeU32(initial), ...encodeU32(maximum)];
}

/** The module with its defined memory, or its imported memory, declared shared with `maxPages`. */
export function withSharedMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  let sections = readSections(bytes);
  const memory = sections.find((s) => s.id === SECTION.memory);
  if (memory) {
    const r = new Reader(bytes, memory.payloadStart, memory.payloadEnd);
    if (r.u32() !== 1) throw new Error('expected one memory');
    const flags = r.byte();
    const initial = r.u32();
    if (flags & 0x01) r.u32();
    bytes = replaceSection(bytes, memory, Uint8Array.from([1, ...limits(initial, maxPages)]));
    sections = readSections(bytes);
  }
  const imports = sections.find((s) => s.id === SECTION.import);
  if (!imports) return bytes;
  const r = new Reader(bytes, imports.payloadStart, imports.payloadEnd);
  const count = r.u32();
  const out: number[] = [...encodeU32(count)];
  for (let i = 0; i < count; i++) {
    const start = r.offset;
    r.name();
    r.name();
    const kind = r.byte();
    if (kind !== 2) {
      if (kind === 0) r.u32();
      else if (kind === 1) {
        skipValueType(r);
        const f = r.byte();
        r.u32();
        if (f & 1) r.u32();
      } else if (kind === 3) {
        skipValueType(r);
        r.byte();
      } else if (kind === 4) {
        r.byte();
        r.u32();
      }
      out.push(...bytes.subarray(start, r.offset));
      continue;
    }
    out.push(...bytes.subarray(start, r.offset));
    const flags = r.byte();
    const initial = r.u32();
    if (flags & 0x01) r.u32();
    out.push(...limits(initial, maxPages));
  }
  return replaceSection(bytes, imports, Uint8Array.from(out));
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `wasi:cli/terminal-input` -> shim.cli.terminalInput */
/** World sandbox-extended's `host` interface, with no functions (what a host without them offers). */
const NO_HOST_FUNCTIONS = {
  functionsVersion: () => 0,
  functionNames: () => [],
  call: (name: string) => {
    throw `this sandbox has no host function named ${JSON.stringify(name)}`;
  },
};

function wasiImports(): Record<string, unknown> {
  return new Proxy(
    {},
    {
      get(_, key) {
        if (key === HOST_INTERFACE) return NO_HOST_FUNCTIONS;
        const match = typeof key === 'string' ? /^wasi:([a-z]+)\/([a-z-]+)$/.exec(key) : null;
        if (!match) return undefined;
        const namespace = (shim as unknown as Record<string, Record<string, unknown>>)[match[1]!];
        return namespace?.[camel(match[2]!)];
      },
    },
  );
}

export async function instantiateShared(artifactDir: string, maxPages = 4096): Promise<SharedInstance> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(join(artifactDir, MANIFEST_FILE), 'utf8')));
  // Node's shim takes host paths (its declared type is the browser shim's in-memory tree).
  const preopens: Record<string, string> = Object.fromEntries(
    manifest.readOnlyTrees.map((t) => [t.guestPath, join(artifactDir, t.dir)]),
  );
  // The guest's `/` preopen comes last (the host routes it); here it is an empty directory.
  if (manifest.virtualRoot) preopens['/'] = await mkdtemp(join(tmpdir(), 'virtual-root-'));
  _setPreopens(preopens as unknown as Parameters<typeof _setPreopens>[0]);
  const modules = new Map<string, WebAssembly.Module>();
  for (const entry of manifest.coreModules) {
    const bytes = withSharedMemory(await readFile(join(artifactDir, entry.file)), maxPages);
    modules.set(entry.file, await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
  }
  let memory: WebAssembly.Memory | undefined;
  const glue = (await import(pathToFileURL(join(artifactDir, manifest.glue)).href)) as {
    instantiate: (
      getCoreModule: (file: string) => WebAssembly.Module,
      imports: object,
      instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
    ) => Promise<{ eval(e: string): string; exec(s: string): void }>;
  };
  const exports = await glue.instantiate(
    (file) => modules.get(file)!,
    wasiImports(),
    (module, imports) => {
      const instance = new WebAssembly.Instance(module, imports);
      for (const value of Object.values(instance.exports)) {
        if (value instanceof WebAssembly.Memory) memory ??= value;
      }
      return instance;
    },
  );
  if (!memory || !(memory.buffer instanceof SharedArrayBuffer)) throw new Error('no shared memory');
  return {
    manifest,
    memory,
    eval: (expression) => exports.eval(expression),
    exec: (statements) => exports.exec(statements),
  };
}
