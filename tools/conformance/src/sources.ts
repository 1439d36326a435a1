/**
 * CPython's Lib/test, from the same Debian source package the guest's CPython was built from.
 *
 * The tests are never committed: they are fetched with `apt-get source` through the private apt
 * state directory tools/python-wasi keeps for Debian trixie (its package lists are already there
 * after the toolchain build, so this needs the network once and no root), unpacked with
 * dpkg-source (Debian's patches applied, as in the build), and the part the suite needs is cached
 * in `<cache root>/conformance/<Debian version>/test`.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultCacheRoot } from '@component-sandbox/python-wasi';
import { MODULES, SUPPORT_PATHS } from './modules.js';

/** Where tools/python-wasi's private apt state for trixie, the suite of python3.13, lives. */
const PYTHON_SOURCE_SUITE = 'trixie';
const PYTHON_SOURCE_PACKAGE = 'python3.13';
const COMPLETE_MARKER = '.complete';

export function conformanceCacheRoot(): string {
  return join(dirname(defaultCacheRoot()), 'conformance');
}

/**
 * The directory holding the `test` package for `debianVersion` (e.g. `3.13.5-2+deb13u5`),
 * fetching and trimming it first when it is not cached.
 */
export async function ensureTestTree(debianVersion: string, log: (line: string) => void): Promise<string> {
  const entry = join(conformanceCacheRoot(), debianVersion);
  // Complete, and made for the current lists: a module or data directory added since is fetched.
  const wanted = [...SUPPORT_PATHS, ...MODULES.map((m) => m.path)];
  if (existsSync(join(entry, COMPLETE_MARKER)) && wanted.every((path) => existsSync(join(entry, 'test', path))))
    return entry;
  mkdirSync(dirname(entry), { recursive: true });
  const work = mkdtempSync(join(dirname(entry), '.fetch-'));
  try {
    log(`conformance: fetching Lib/test of ${PYTHON_SOURCE_PACKAGE} ${debianVersion} (apt-get source)`);
    const aptDir = join(defaultCacheRoot(), 'apt', PYTHON_SOURCE_SUITE);
    if (!existsSync(join(aptDir, 'sources.list'))) {
      throw new Error(
        `no private apt state in ${aptDir}: build the CPython toolchain first ` +
          '(pnpm --filter @component-sandbox/python-wasi build:toolchain)',
      );
    }
    const downloads = join(work, 'downloads');
    mkdirSync(downloads);
    await run(
      'apt-get',
      [
        ...privateAptOptions(aptDir),
        'source',
        '--download-only',
        '--only-source',
        `${PYTHON_SOURCE_PACKAGE}=${debianVersion}`,
      ],
      downloads,
    );
    const dsc = readdirSync(downloads).find((name) => name.endsWith('.dsc'));
    if (!dsc) throw new Error(`apt-get source did not download a .dsc for ${PYTHON_SOURCE_PACKAGE} ${debianVersion}`);
    const sourceDir = join(work, 'source');
    await run('dpkg-source', ['-x', dsc, sourceDir], downloads);
    const staging = join(work, 'tree');
    copyTestSubset(join(sourceDir, 'Lib', 'test'), join(staging, 'test'));
    writeFileSync(join(staging, COMPLETE_MARKER), `${debianVersion}\n`);
    rmSync(entry, { recursive: true, force: true });
    renameSync(staging, entry);
    return entry;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The `test` package with test.support, the helper modules, the data and the listed modules. */
function copyTestSubset(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  // Top-level helpers (datetimetester, re_tests, seq_tests, ...) by rule: test modules import
  // them freely, and listing them by hand would break on the next CPython.
  for (const name of readdirSync(from)) {
    if (name.endsWith('.py') && !name.startsWith('test_')) cpSync(join(from, name), join(to, name));
  }
  for (const path of [...SUPPORT_PATHS, ...MODULES.map((m) => m.path)]) {
    cpSync(join(from, path), join(to, path), {
      recursive: true,
      filter: (source) => !source.endsWith('__pycache__'),
    });
  }
}

/** The options tools/python-wasi's PrivateApt uses: that suite's lists only, nothing installed. */
function privateAptOptions(dir: string): string[] {
  return [
    ['Dir::Etc::SourceList', join(dir, 'sources.list')],
    ['Dir::Etc::SourceParts', '/dev/null'],
    ['Dir::State::Lists', join(dir, 'lists')],
    ['Dir::Cache', join(dir, 'cache')],
    ['Dir::State::status', '/dev/null'],
    ['APT::Sandbox::User', 'root'],
  ].flatMap(([name, value]) => ['-o', `${name}=${value}`]);
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${output.trim().slice(-3000)}`)),
    );
  });
}
