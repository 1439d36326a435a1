import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  EXTENDED_WORLD_NAME,
  WORLD_NAMES,
  witDir as contractWitDir,
  type GuestManifest,
  type WorldName,
} from '@component-sandbox/wit';
import type { Backend, GuestLanguage } from './backend.js';
import { writeArtifact } from './artifact-writer.js';
import { backendsFor } from './backends/registry.js';
import { GuestBuildError } from './errors.js';
import { assertWorldExists } from './world-check.js';

export interface BuildGuestOptions {
  /** Guest source file (guest.py, guest.js). */
  source: string;
  language: GuestLanguage;
  /** Where the artifact directory is written (replaced if it exists). */
  outDir: string;
  /**
   * Python only: modules (`*.py`) and package directories to ship beside the guest source,
   * importable by it (and, when it imports them at top level, part of the snapshot).
   */
  include?: string[];
  /**
   * Python only: a directory of pure-Python packages (`pip install --target DIR`, or unpacked
   * wheels) baked into the guest, importable by guest code and sandboxed code.
   */
  packages?: string;
  /**
   * Python only: modules (from `packages`, the includes or the stdlib) imported while the guest
   * is pre-initialised: they are in every sandbox's starting memory and import at no cost.
   */
  preload?: string[];
  /** WIT directory; defaults to the contract shipped in @component-sandbox/wit. */
  witDir?: string;
  /**
   * The world to build for: `sandbox-extended` (the default: host functions and cells) or
   * `sandbox` (the seed world: `eval` and `exec` only).
   */
  world?: WorldName;
  /** Backend name; defaults to the first available backend for the language. */
  backend?: string;
  /** Progress lines; defaults to silence. */
  log?: (message: string) => void;
}

export interface BuildGuestResult {
  outDir: string;
  manifest: GuestManifest;
  durationMs: number;
}

async function chooseBackend(language: GuestLanguage, requested: string | undefined): Promise<Backend> {
  const candidates = backendsFor(language);
  if (requested !== undefined) {
    const backend = candidates.find((b) => b.name === requested);
    if (!backend) {
      const known = candidates.map((b) => b.name).join(', ');
      throw new GuestBuildError('UNKNOWN_BACKEND', `No backend "${requested}" for ${language}; known: ${known}`);
    }
    const availability = await backend.availability();
    if (!availability.available) {
      throw new GuestBuildError(
        'BACKEND_UNAVAILABLE',
        `Backend ${backend.name} is unavailable: ${availability.reason}`,
      );
    }
    return backend;
  }
  const reasons: string[] = [];
  for (const backend of candidates) {
    const availability = await backend.availability();
    if (availability.available) return backend;
    reasons.push(`${backend.name}: ${availability.reason}`);
  }
  throw new GuestBuildError('BACKEND_UNAVAILABLE', `No backend for ${language} can run here:\n${reasons.join('\n')}`);
}

export async function buildGuest(options: BuildGuestOptions): Promise<BuildGuestResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const sourcePath = resolve(options.source);
  const sourceInfo = await stat(sourcePath).catch(() => undefined);
  if (!sourceInfo?.isFile()) {
    throw new GuestBuildError('SOURCE_NOT_FOUND', `Guest source not found: ${sourcePath}`);
  }
  const includes = (options.include ?? []).map((path) => resolve(path));
  if (includes.length > 0 && options.language !== 'python') {
    throw new GuestBuildError(
      'INVALID_INPUT',
      `include is for Python guests; a ${options.language} guest is one file (bundle it first)`,
    );
  }
  const world = options.world ?? EXTENDED_WORLD_NAME;
  if (!(WORLD_NAMES as readonly string[]).includes(world)) {
    throw new GuestBuildError('INVALID_INPUT', `world must be one of ${WORLD_NAMES.join(', ')}, got ${String(world)}`);
  }
  const packagesDir = options.packages === undefined ? undefined : resolve(options.packages);
  const preload = options.preload ?? [];
  if ((packagesDir !== undefined || preload.length > 0) && options.language !== 'python') {
    throw new GuestBuildError('INVALID_INPUT', `packages and preload are for Python guests, not ${options.language}`);
  }
  if (packagesDir !== undefined && !(await stat(packagesDir).catch(() => undefined))?.isDirectory()) {
    throw new GuestBuildError('SOURCE_NOT_FOUND', `--packages ${packagesDir}: no such directory`);
  }
  const badName = preload.find((name) => !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name));
  if (badName !== undefined) {
    throw new GuestBuildError('INVALID_INPUT', `--preload ${JSON.stringify(badName)} is not a module name`);
  }
  const witDir = resolve(options.witDir ?? contractWitDir);
  await assertWorldExists(witDir, world);
  const backend = await chooseBackend(options.language, options.backend);
  log(`building the ${options.language} guest with ${backend.name}`);

  const workDir = await mkdtemp(join(tmpdir(), 'component-sandbox-build-'));
  try {
    const output = await backend.build({
      sourcePath,
      includes,
      ...(packagesDir !== undefined ? { packagesDir } : {}),
      preload,
      witDir,
      world,
      workDir,
      log,
    });
    const outDir = resolve(options.outDir);
    const manifest = await writeArtifact({
      outDir,
      language: options.language,
      world,
      backend: backend.name,
      output,
      log,
    });
    const durationMs = performance.now() - started;
    log(`artifact written to ${outDir} in ${(durationMs / 1000).toFixed(1)} s`);
    return { outDir, manifest, durationMs };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
