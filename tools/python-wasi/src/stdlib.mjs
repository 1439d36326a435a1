// The read-only stdlib tree a guest mounts at /python: CPython's Lib/ without what no sandbox
// can use (test suites, GUI, pip bootstrap), with bytecode precompiled so nothing is compiled
// or stat-checked at run time.

import { cpSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { BUILD_PYTHON } from './cross-build.mjs';
import { runLogged } from './progress.mjs';

/** Where the tree is mounted inside the guest; recorded in .pyc files for tracebacks. */
export const GUEST_STDLIB_PATH = '/python';

/** Top-level entries of Lib/ that are dropped: GUI, demos, pip bootstrap, the test suite. */
const DROPPED_TOP_LEVEL = new Set(['test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'site-packages']);
/** Directories dropped wherever they appear: per-package test suites, stale bytecode. */
const DROPPED_ANYWHERE = new Set(['test', 'tests', 'idle_test', '__pycache__']);

export function copyStdlib(sourceDir, stdlibDir) {
  const libDir = join(sourceDir, 'Lib');
  cpSync(libDir, stdlibDir, {
    recursive: true,
    filter: (path) => keepInStdlib(relative(libDir, path), path),
  });
}

function keepInStdlib(relativePath, absolutePath) {
  if (relativePath === '') return true;
  const parts = relativePath.split(sep);
  if (parts.length === 1 && DROPPED_TOP_LEVEL.has(parts[0])) return false;
  if (DROPPED_ANYWHERE.has(basename(relativePath)) && statSync(absolutePath).isDirectory()) return false;
  return true;
}

/**
 * Debian's sysconfigdata-name.diff makes `sysconfig` look for `_sysconfigdata__wasm32-wasi`,
 * while the build writes `_sysconfigdata__wasi_wasm32-wasi`; `import zoneinfo` (via sysconfig)
 * fails unless both names exist, so install the file under each.
 */
export function installSysconfigData(sysconfigDataFile, stdlibDir) {
  const names = new Set([
    basename(sysconfigDataFile),
    '_sysconfigdata__wasi_wasm32-wasi.py',
    '_sysconfigdata__wasm32-wasi.py',
  ]);
  for (const name of names) cpSync(sysconfigDataFile, join(stdlibDir, name));
}

/**
 * Precompiles every module with the build python (same 3.11 bytecode). `unchecked-hash` .pyc
 * files are trusted without looking at the source's mtime, and `-p` records the guest path so
 * tracebacks say /python/json/decoder.py rather than a path on the build machine.
 */
export async function precompileStdlib(stdlibDir, logFile) {
  await runLogged(
    BUILD_PYTHON,
    [
      '-m',
      'compileall',
      '-q',
      '-j',
      '0',
      '--invalidation-mode',
      'unchecked-hash',
      '-s',
      stdlibDir,
      '-p',
      GUEST_STDLIB_PATH,
      stdlibDir,
    ],
    { logFile },
  );
}
