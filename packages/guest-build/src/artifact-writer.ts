/**
 * Turns a component into an artifact directory the host can load without any compiler:
 * jco-transpiled glue (async instantiation, so the host supplies compiled modules and every
 * import), the core modules, read-only trees, and a manifest describing all of it.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CONTRACT_VERSION,
  MANIFEST_FILE,
  MANIFEST_SCHEMA_VERSION,
  readDefinedMemories,
  type GuestManifest,
  type WorldName,
} from '@component-sandbox/wit';
import type { BackendOutput, GuestLanguage } from './backend.js';
import { packageVersion } from './package-version.js';
import { GuestBuildError, describeToolError } from './errors.js';
import { insertHardStopChecks, interruptManifest } from './interrupt.js';
import { jcoTranspile } from './jco-tools.js';

const GLUE_NAME = 'sandbox';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function interfaceName(specifier: string): string {
  return specifier.replace(/@[^@/]*$/, '');
}

export interface ArtifactInput {
  outDir: string;
  language: GuestLanguage;
  world: WorldName;
  backend: string;
  output: BackendOutput;
  log: (message: string) => void;
}

export async function writeArtifact(input: ArtifactInput): Promise<GuestManifest> {
  const { transpileBytes } = await jcoTranspile();
  input.log('jco: transpiling the component (async instantiation)');
  let transpiled: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    transpiled = await transpileBytes(input.output.component, {
      name: GLUE_NAME,
      instantiation: 'async',
      emitTypescriptDeclarations: false,
      // A guest's `err` string is thrown as-is: the host tells it from a trap by its type.
      noComponentErrorWrapping: true,
    });
  } catch (error) {
    throw new GuestBuildError('TRANSPILE_FAILED', `jco transpile failed:\n${describeToolError(error)}`, {
      cause: error,
    });
  }

  let files: Record<string, Uint8Array> = transpiled.files;
  const words = input.output.interrupt;
  if (words) {
    try {
      const instrumented = insertHardStopChecks(files, words);
      files = instrumented.files;
      const counts = Object.entries(instrumented.loops).map(([file, n]) => `${n} in ${file}`);
      input.log(`hard stop: a check at every loop header (${counts.join(', ')})`);
    } catch (error) {
      throw new GuestBuildError(
        'TRANSPILE_FAILED',
        `inserting the hard-stop checks failed:\n${describeToolError(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  // Write next to the destination and swap in at the end, so a failed build never leaves a
  // half-written artifact where the host would find it.
  const staging = `${input.outDir}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const coreModules: GuestManifest['coreModules'] = [];
  for (const [file, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(staging, file)), { recursive: true });
    await writeFile(join(staging, file), bytes);
    if (file.endsWith('.wasm')) {
      const [memory] = readDefinedMemories(bytes);
      coreModules.push({
        file,
        sha256: sha256(bytes),
        ...(memory ? { definedMemoryInitialPages: memory.initialPages } : {}),
      });
    }
  }

  const readOnlyTrees: GuestManifest['readOnlyTrees'] = [];
  for (const [index, tree] of input.output.readOnlyTrees.entries()) {
    const dir = `tree${index}`;
    input.log(`copying read-only tree for ${tree.guestPath}`);
    await cp(tree.sourceDir, join(staging, dir), { recursive: true });
    readOnlyTrees.push({ guestPath: tree.guestPath, dir });
  }

  const routedTrees: GuestManifest['readOnlyTrees'] = (input.output.routedTrees ?? []).map((routed) => {
    const tree = readOnlyTrees[routed.tree];
    if (!tree || !input.output.virtualRoot) {
      throw new Error(`the backend routed ${routed.guestPath} to a tree it does not have, or without a virtual root`);
    }
    return { guestPath: routed.guestPath, dir: `${tree.dir}/${routed.subdir}` };
  });

  const jcoVersion = packageVersion('@bytecodealliance/jco-transpile');
  const manifest: GuestManifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    language: input.language,
    world: input.world,
    contractVersion: CONTRACT_VERSION,
    backend: input.backend,
    glue: `${GLUE_NAME}.js`,
    coreModules,
    initialMemoryPages: coreModules.reduce((sum, m) => sum + (m.definedMemoryInitialPages ?? 0), 0),
    imports: [...new Set(transpiled.imports.map(interfaceName))].sort(),
    readOnlyTrees,
    ...(input.output.virtualRoot ? { virtualRoot: true } : {}),
    ...(routedTrees.length > 0 ? { routedTrees } : {}),
    toolchain: { ...input.output.toolchain, 'jco-transpile': jcoVersion },
    ...(words ? { interrupt: interruptManifest(words) } : {}),
  };
  await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  // The glue is an ES module; say so next to it, so the artifact loads wherever it is copied.
  await writeFile(join(staging, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);

  await rm(input.outDir, { recursive: true, force: true });
  await mkdir(dirname(input.outDir), { recursive: true });
  await rename(staging, input.outDir);
  return manifest;
}
