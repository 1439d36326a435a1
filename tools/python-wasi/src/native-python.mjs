// The build python: a native CPython of the same major.minor as the one cross-compiled, which
// CPython's cross build insists on (configure checks it) and which precompiles the stdlib.
// Debian bookworm ships only 3.11, so it is built here from the same source package, once, and
// kept in its own cache entry: editing the cross build does not rebuild it.

import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishEntry } from './cache.mjs';
import { capture, runLogged } from './progress.mjs';

const THIS_FILE = fileURLToPath(import.meta.url);
const MARKER = 'native-python.json';

/** Key of the native build: this file, the Debian source version and the host compiler. */
export async function nativePythonKey(debianSourceVersion) {
  const gcc = await capture('gcc', ['--version']);
  return createHash('sha256')
    .update(readFileSync(THIS_FILE))
    .update(`\n${debianSourceVersion}\n${gcc.stdout.split('\n')[0]}\n`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * The path of the cached native `python3.X` for `key`, or undefined when it is not built.
 * @param {{ cacheRoot: string, key: string, minorVersion: string }} options
 */
export function cachedNativePython({ cacheRoot, key, minorVersion }) {
  const dir = join(cacheRoot, 'native-python', key);
  return existsSync(join(dir, MARKER)) ? join(dir, 'bin', `python${minorVersion}`) : undefined;
}

/**
 * Configures, builds and installs a native CPython from `sourceDir` (out of tree, so the source
 * stays clean for the cross build) into its cache entry. Returns the interpreter's path.
 * @param {{ cacheRoot: string, key: string, debianSourceVersion: string, minorVersion: string, sourceDir: string, logFile: string }} options
 */
export async function buildNativePython({ cacheRoot, key, debianSourceVersion, minorVersion, sourceDir, logFile }) {
  const root = join(cacheRoot, 'native-python');
  mkdirSync(root, { recursive: true });
  const entryDir = join(root, key);
  const buildDir = mkdtempSync(join(root, '.build-'));
  const stageDir = join(buildDir, 'stage');
  try {
    const objDir = join(buildDir, 'obj');
    mkdirSync(objDir);
    // --prefix is the final entry: `make install DESTDIR=` stages it, a rename publishes it.
    await runLogged(
      join(sourceDir, 'configure'),
      [`--prefix=${entryDir}`, '--without-ensurepip', '--disable-test-modules'],
      { cwd: objDir, env: hostEnv(), logFile },
    );
    // It only runs build scripts and compileall: -O1 without debug info halves its build time.
    const make = ['-j', String(cpus().length), 'OPT=-DNDEBUG -O1 -Wall'];
    await runLogged('make', make, { cwd: objDir, env: hostEnv(), logFile });
    await runLogged('make', [...make, 'altinstall', `DESTDIR=${stageDir}`], { cwd: objDir, env: hostEnv(), logFile });
    const staged = join(stageDir, entryDir);
    trimInstall(staged, minorVersion);
    writeFileSync(join(staged, MARKER), `${JSON.stringify({ key, debianSourceVersion })}\n`);
    publishEntry(staged, entryDir);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  const python = join(entryDir, 'bin', `python${minorVersion}`);
  const probe = await capture(python, ['-c', 'import sys; print(sys.version)']);
  if (probe.code !== 0) throw new Error(`the native build python does not start: ${probe.stderr}`);
  return python;
}

/** What the build python never needs: the test suite and the static library for embedding. */
function trimInstall(prefixDir, minorVersion) {
  const libDir = join(prefixDir, 'lib', `python${minorVersion}`);
  rmSync(join(libDir, 'test'), { recursive: true, force: true });
  for (const name of readdirSync(libDir)) {
    if (name.startsWith('config-')) {
      for (const file of readdirSync(join(libDir, name)))
        if (file.endsWith('.a')) rmSync(join(libDir, name, file), { force: true });
    }
  }
  rmSync(join(dirname(libDir), 'pkgconfig'), { recursive: true, force: true });
}

/** A host compiler environment: no cross variables that a caller's shell might have set. */
function hostEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !['CC', 'CPP', 'CXX', 'CFLAGS', 'LDFLAGS', 'CONFIG_SITE'].includes(name) && !name.startsWith('PKG_'),
    ),
  );
}
