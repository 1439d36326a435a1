/**
 * Running the modules: inside the sandbox (a guest built with the tests under /app, through the
 * public host API) and under the native CPython that tools/python-wasi builds for
 * cross-compiling (same version, same Debian source), with one Python runner for both.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest } from '@component-sandbox/guest-build';
import { GuestError, createSandbox, type Sandbox } from '@component-sandbox/host';
import { readPythonBase } from '@component-sandbox/python-base';
import { defaultCacheRoot } from '@component-sandbox/python-wasi';
import { NOT_RUN_IN_SANDBOX } from './modules.js';
import { conformanceCacheRoot } from './sources.js';

export type Outcome = 'passed' | 'failed' | 'error' | 'skipped';
export interface TestOutcome {
  outcome: Outcome;
  /** Skip reason, or the end of the failure's traceback. */
  detail?: string;
}
export interface ModuleRun {
  outcomes: Record<string, TestOutcome>;
  seconds: number;
  /** Whether the run had a writable temporary directory. */
  writableTmp: boolean;
  /** Why the run ended early or left tests out (time limit, crash), if it did. */
  incident?: string;
}

export const RUNNER_PATH = fileURLToPath(new URL('../python/conformance_runner.py', import.meta.url));

/** The guest.py that @component-sandbox/guest-python ships: the conformance guest runs the same. */
function guestSourcePath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@component-sandbox/guest-python/package.json')), 'guest.py');
}

/**
 * The code of the installed guest builder: what it writes into a guest (its manifest, the
 * routing of `/`) changes with it, so a cached conformance guest is rebuilt when it does.
 */
function builderFingerprint(): string {
  const require = createRequire(import.meta.url);
  const distDir = dirname(require.resolve('@component-sandbox/guest-build'));
  const hash = createHash('sha256');
  const files = readdirSync(distDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .sort();
  for (const file of files) hash.update(file).update(readFileSync(join(distDir, file)));
  return hash.digest('hex');
}

/**
 * Builds (or reuses) a Python guest whose /app holds guest.py, the runner and the `test`
 * package. The host has no user mounts: shipping the tests as guest files is the public way.
 */
export async function ensureConformanceGuest(testTreeDir: string, log: (line: string) => void): Promise<string> {
  const base = readPythonBase();
  const key = createHash('sha256')
    .update(readFileSync(guestSourcePath()))
    .update(readFileSync(RUNNER_PATH))
    .update(JSON.stringify(base))
    .update(builderFingerprint())
    .update(testTreeDir)
    .digest('hex')
    .slice(0, 16);
  const outDir = join(conformanceCacheRoot(), `guest-${key}`);
  if (existsSync(join(outDir, 'manifest.json'))) return outDir;
  // One guest at a time: each is about 50 MB, and an old one is never used again.
  for (const name of readdirSync(conformanceCacheRoot())) {
    if (name.startsWith('guest-')) rmSync(join(conformanceCacheRoot(), name), { recursive: true, force: true });
  }
  log(`conformance: building the conformance guest (Wizer; about 15 s) into ${outDir}`);
  await buildGuest({
    source: guestSourcePath(),
    language: 'python',
    outDir,
    include: [join(testTreeDir, 'test'), RUNNER_PATH],
    log: () => {},
  });
  return outDir;
}

export interface SandboxRunOptions {
  guestDir: string;
  /** Time limit of one module (and of each class when a module is rerun class by class). */
  timeoutMs: number;
  log: (line: string) => void;
}

const SANDBOX_LIMITS = {
  // The tests allocate far more than a user's default 20 MiB (zlib, array, decimal buffers).
  memoryLimitBytes: 1024 * 1024 * 1024,
  // And write bigger files than the default 16 MiB /tmp: test_zipfile appends to a 19 MB file.
  tmpLimitBytes: 256 * 1024 * 1024,
  // unittest and the tests print warnings; nothing reads it, it must only not fail the call.
  outputLimitBytes: 64 * 1024 * 1024,
};

/** A Python expression calling the runner: JSON strings and lists of them are Python literals. */
function call(fn: string, ...args: (string | string[] | null)[]): string {
  const literals = args.map((arg) => (arg === null ? 'None' : JSON.stringify(arg)));
  return `__import__("conformance_runner").${fn}(${literals.join(', ')})`;
}

/**
 * Runs one module in a fresh sandbox. When the module does not finish (time limit, trap), it is
 * run again class by class, each class in a fresh sandbox after a failure, and the classes that
 * still do not finish are recorded as errors saying so: one runaway test costs one time limit.
 */
export async function runModuleInSandbox(module: string, options: SandboxRunOptions): Promise<ModuleRun> {
  const exclude = Object.keys(NOT_RUN_IN_SANDBOX).filter((prefix) => prefix.startsWith(`${module}.`));
  const open = () => createSandbox({ guest: options.guestDir, timeoutMs: options.timeoutMs, ...SANDBOX_LIMITS });
  let sandbox: Sandbox = await open();
  try {
    try {
      const { value } = await sandbox.eval<ModuleRun>(call('run', module, null, exclude));
      return value;
    } catch (error) {
      if (error instanceof GuestError) throw new Error(`${module}: the runner failed: ${error.guestMessage}`);
      options.log(`conformance: ${module} did not finish (${describe(error)}); running it class by class`);
    }
    await sandbox.close().catch(() => {});
    sandbox = await open();
    const ids = (await sandbox.eval<string[]>(call('list_tests', module))).value;
    const classes = [...new Set(ids.map((id) => id.slice(0, id.lastIndexOf('.'))))];
    const merged: ModuleRun = { outcomes: {}, seconds: 0, writableTmp: false, incident: '' };
    for (const cls of classes) {
      if (exclude.some((prefix) => cls === prefix || cls.startsWith(`${prefix}.`))) continue;
      try {
        const { value } = await sandbox.eval<ModuleRun>(call('run', module, [cls], exclude));
        Object.assign(merged.outcomes, value.outcomes);
        merged.seconds += value.seconds;
        merged.writableTmp = value.writableTmp;
      } catch (error) {
        const why = describe(error);
        merged.incident += `${cls}: ${why}; `;
        for (const id of ids.filter((id) => id.startsWith(`${cls}.`))) {
          merged.outcomes[id] = { outcome: 'error', detail: `did not finish in the sandbox: ${why}` };
        }
        await sandbox.close().catch(() => {});
        sandbox = await open();
      }
    }
    return merged;
  } finally {
    await sandbox.close().catch(() => {});
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error);
}

/** The native build python of tools/python-wasi for `version` (e.g. `3.13`), if it is built. */
export function findNativePython(version: string): string | undefined {
  const root = join(defaultCacheRoot(), 'native-python');
  if (!existsSync(root)) return undefined;
  for (const key of readdirSync(root)) {
    const candidate = join(root, key, 'bin', `python${version}`);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs one module under the native CPython, in a child process with a time limit. */
export async function runModuleNatively(
  python: string,
  testTreeDir: string,
  module: string,
  timeoutMs: number,
): Promise<ModuleRun> {
  const resultDir = mkdtempSync(join(tmpdir(), 'conformance-native-'));
  const resultFile = join(resultDir, 'result.json');
  // -I: no environment, no user site: the same isolation the guest starts with. sys.path gets
  // the runner and the `test` tree first, as /app comes first in the guest.
  const script = [
    'import json, sys',
    `sys.path[:0] = [${JSON.stringify(testTreeDir)}, ${JSON.stringify(dirname(RUNNER_PATH))}]`,
    'import conformance_runner',
    `result = conformance_runner.run(${JSON.stringify(module)})`,
    `open(${JSON.stringify(resultFile)}, "w").write(json.dumps(result))`,
  ].join('\n');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(python, ['-I', '-X', 'utf8', '-c', script], {
        cwd: resultDir,
        stdio: 'ignore',
        timeout: timeoutMs,
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (!existsSync(resultFile)) throw new Error(`${module}: native run exited with ${code} and no result`);
    return JSON.parse(readFileSync(resultFile, 'utf8')) as ModuleRun;
  } finally {
    rmSync(resultDir, { recursive: true, force: true });
  }
}
