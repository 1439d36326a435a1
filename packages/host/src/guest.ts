/**
 * Loading a guest artifact: validate its manifest, verify its core modules, refuse imports the
 * host does not grant, and compile each module once per process and memory limit.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HOST_INTERFACE,
  MANIFEST_FILE,
  WASM_PAGE_BYTES,
  WasmFormatError,
  manifestSchema,
  withMemoryMaximum,
  type GuestManifest,
} from '@component-sandbox/wit';
import { ArtifactError, UnsupportedImportError } from './errors.js';
import { SUPPORTED_INTERFACES } from './wasi/index.js';
import type { ReadOnlyMount } from './wasi/index.js';

export interface LoadedGuest {
  readonly dir: string;
  readonly manifest: GuestManifest;
  /** URL of the transpiled glue module, imported by each worker. */
  readonly glueUrl: string;
  readonly mounts: readonly ReadOnlyMount[];
  /** Trees of the artifact seen through `/` only (manifest `routedTrees`). */
  readonly routedMounts: readonly ReadOnlyMount[];
  /** The guest has a `/` preopen for the host to route (manifest `virtualRoot`). */
  readonly virtualRoot: boolean;
  /** Verified bytes of each core module, by file name. */
  readonly moduleBytes: ReadonlyMap<string, Uint8Array<ArrayBuffer>>;
  /** Bytes of guest memory the guest needs before it runs any code. */
  readonly initialMemoryBytes: number;
}

const loading = new Map<string, Promise<LoadedGuest>>();

/** Loads (once per process) the artifact in `dir`. */
export function loadGuest(dir: string): Promise<LoadedGuest> {
  const key = resolve(dir);
  let pending = loading.get(key);
  if (!pending) {
    pending = readGuest(key);
    loading.set(key, pending);
    pending.catch(() => loading.delete(key));
  }
  return pending;
}

async function readManifest(dir: string): Promise<GuestManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new ArtifactError(`no guest artifact at ${dir} (${MANIFEST_FILE} is missing); build the guest first`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(`${join(dir, MANIFEST_FILE)} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ArtifactError(`${join(dir, MANIFEST_FILE)} is not a valid guest manifest: ${problems.join('; ')}`);
  }
  return parsed.data;
}

async function readGuest(dir: string): Promise<LoadedGuest> {
  const manifest = await readManifest(dir);
  const unsupported = manifest.imports.filter((name) => !SUPPORTED_INTERFACES.has(name) && name !== HOST_INTERFACE);
  if (unsupported.length > 0) throw new UnsupportedImportError(unsupported);

  const moduleBytes = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const entry of manifest.coreModules) {
    const path = join(dir, entry.file);
    const bytes = await readFile(path).catch(() => {
      throw new ArtifactError(`the artifact at ${dir} is missing ${entry.file}`);
    });
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.sha256) {
      throw new ArtifactError(`${path} is corrupt: its SHA-256 does not match the manifest`);
    }
    // readFile never hands out shared memory.
    moduleBytes.set(entry.file, new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength));
  }

  return {
    dir,
    manifest,
    glueUrl: pathToFileURL(join(dir, manifest.glue)).href,
    mounts: manifest.readOnlyTrees.map((tree) => ({ guestPath: tree.guestPath, hostDir: join(dir, tree.dir) })),
    virtualRoot: manifest.virtualRoot === true,
    routedMounts: manifest.virtualRoot
      ? (manifest.routedTrees ?? []).map((tree) => ({ guestPath: tree.guestPath, hostDir: join(dir, tree.dir) }))
      : [],
    moduleBytes,
    initialMemoryBytes: manifest.initialMemoryPages * WASM_PAGE_BYTES,
  };
}

const compiled = new Map<string, Promise<Map<string, WebAssembly.Module>>>();

/**
 * Compiled module sets kept for reuse. Each distinct memory limit compiles the memory-defining
 * module again (several MB of machine code), so a process that sees many limits must not keep
 * them all; sandboxes already running keep their own modules alive regardless.
 */
const MAX_COMPILED_LIMITS = 8;

function remember(key: string, modules: Promise<Map<string, WebAssembly.Module>>): void {
  compiled.set(key, modules);
  for (const oldest of compiled.keys()) {
    if (compiled.size <= MAX_COMPILED_LIMITS) break;
    compiled.delete(oldest);
  }
}

/**
 * @internal
 * The guest's core modules compiled for a memory limit of `maxPages`. Modules that define no
 * memory do not depend on the limit and are compiled once for all limits.
 */
export function compileGuest(guest: LoadedGuest, maxPages: number): Promise<Map<string, WebAssembly.Module>> {
  const key = `${guest.dir}\0${maxPages}`;
  let pending = compiled.get(key);
  if (pending) {
    // Most recently used last, so the bound above drops the limit unused the longest.
    compiled.delete(key);
    compiled.set(key, pending);
  } else {
    pending = compileModules(guest, maxPages);
    remember(key, pending);
    pending.catch(() => compiled.delete(key));
  }
  return pending;
}

const limitFree = new Map<string, Promise<WebAssembly.Module>>();

async function compileModules(guest: LoadedGuest, maxPages: number): Promise<Map<string, WebAssembly.Module>> {
  const modules = new Map<string, WebAssembly.Module>();
  for (const entry of guest.manifest.coreModules) {
    const bytes = guest.moduleBytes.get(entry.file)!;
    try {
      if (entry.definedMemoryInitialPages === undefined) {
        const key = `${guest.dir}\0${entry.file}`;
        let shared = limitFree.get(key);
        if (!shared) {
          shared = WebAssembly.compile(bytes);
          limitFree.set(key, shared);
        }
        modules.set(entry.file, await shared);
      } else {
        modules.set(entry.file, await WebAssembly.compile(withMemoryMaximum(bytes, maxPages)));
      }
    } catch (error) {
      if (error instanceof WasmFormatError || error instanceof WebAssembly.CompileError) {
        throw new ArtifactError(`${join(guest.dir, entry.file)} is not a valid module: ${error.message}`);
      }
      throw error;
    }
  }
  return modules;
}
