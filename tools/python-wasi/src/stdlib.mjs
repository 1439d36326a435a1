// The read-only stdlib tree a guest mounts at /python: CPython's Lib/ without what no sandbox
// can use (test suites, GUI, pip bootstrap), with bytecode precompiled so nothing is compiled
// or stat-checked at run time.

import { copyFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { runLogged } from './progress.mjs';

/** Where the tree is mounted inside the guest; recorded in .pyc files for tracebacks. */
export const GUEST_STDLIB_PATH = '/python';

/**
 * The IANA time-zone database inside the stdlib tree. CPython is configured with this as its
 * TZPATH (sysconfig's TZPATH, zoneinfo's default search path), so `zoneinfo` finds zones
 * without the `tzdata` package or any host directory.
 */
export const ZONEINFO_DIR = 'zoneinfo-data';
export const GUEST_TZPATH = `${GUEST_STDLIB_PATH}/${ZONEINFO_DIR}`;

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
 * Copies `usr/share/zoneinfo` of the unpacked tzdata package to `<stdlib>/zoneinfo-data` as
 * plain files: the package's links between zones (`UTC` -> `Etc/UTC`) become copies, since a
 * guest's read-only tree holds files and directories only, and links out of the tree
 * (`localtime` -> `/etc/localtime`) are dropped.
 */
export function installZoneinfo(tzdataDir, stdlibDir) {
  const from = join(tzdataDir, 'usr', 'share', 'zoneinfo');
  const to = join(stdlibDir, ZONEINFO_DIR);
  const copyTree = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const source = join(dir, entry.name);
      const target = join(to, relative(from, source));
      let real = source;
      if (entry.isSymbolicLink()) {
        const link = readlinkSync(source);
        if (isAbsolute(link)) continue;
        real = resolve(dirname(source), link);
        if (relative(from, real).startsWith('..')) continue;
      }
      if (lstatSync(real).isDirectory()) {
        if (real === source) copyTree(source); // a linked directory would be a duplicate tree
      } else {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(real, target);
      }
    }
  };
  copyTree(from);
}

/**
 * Precompiles every module with the build python (the same CPython version, so the same bytecode). `unchecked-hash` .pyc
 * files are trusted without looking at the source's mtime, and `-p` records the guest path so
 * tracebacks say /python/json/decoder.py rather than a path on the build machine.
 */
export async function precompileStdlib(stdlibDir, buildPython, logFile) {
  await runLogged(
    buildPython,
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
