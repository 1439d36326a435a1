/**
 * Finds the peers and installs what `pnpm install` could not: isolated-vm is a native addon
 * whose build script pnpm does not run (it is not in the workspace's onlyBuiltDependencies), so
 * it is compiled here with node-gyp, once. Everything else comes from the package's
 * dependencies or the machine (`python3`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerInfo, PeerName } from './types.js';

const require = createRequire(import.meta.url);
export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_ROOT = resolve(BENCH_DIR, '../..');

function packageVersion(name: string): string {
  try {
    // Not every package exports ./package.json: walk up from its entry point instead.
    let dir = dirname(require.resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
        if (pkg.name === name) return pkg.version;
      }
      const parent = dirname(dir);
      if (parent === dir) return '?';
      dir = parent;
    }
  } catch {
    return '?';
  }
}

/** Imports the module in a throwaway Node process; the error's last line when it fails. */
function probe(specifier: string): string | undefined {
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`],
    { cwd: BENCH_DIR, encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status === 0) return undefined;
  const lines = `${result.stderr}`.split('\n').filter((line) => /error/i.test(line));
  return (lines[0] ?? `exit ${result.status}`).trim().slice(0, 200);
}

function nodeGyp(): string | undefined {
  const prefix = resolve(dirname(process.execPath), '..');
  const candidates = [
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(prefix, 'lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  if (npmRoot) candidates.push(join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js'));
  return candidates.find((path) => existsSync(path));
}

/** Node's headers installed beside the binary (Debian's nodejs-dev, or a tarball install). */
function nodeDir(): string | undefined {
  const prefix = resolve(dirname(process.execPath), '..');
  const header = join(prefix, 'include/node/node_version.h');
  if (!existsSync(header)) return undefined;
  const text = readFileSync(header, 'utf8');
  const part = (name: string) => new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(text)?.[1];
  const version = `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return version === process.version ? prefix : undefined;
}

function isolatedVm(log: (line: string) => void, install: boolean): PeerInfo {
  const version = packageVersion('isolated-vm');
  const info = (available: boolean, note?: string): PeerInfo => ({
    name: 'isolated-vm',
    version,
    available,
    ...(note ? { note } : {}),
  });
  if (version === '?') return info(false, 'not installed (pnpm install)');
  let error = probe('isolated-vm');
  if (!error) return info(true);
  if (!install) return info(false, `does not load: ${error}`);
  const gyp = nodeGyp();
  if (!gyp) return info(false, `does not load (${error}) and node-gyp was not found to build it`);
  const dir = dirname(require.resolve('isolated-vm/package.json'));
  const headers = nodeDir();
  log(`building isolated-vm ${version} with node-gyp (native addon; pnpm skips its build script; ~2 min, once)`);
  const args = [gyp, 'rebuild', '--release', '-j', 'max', ...(headers ? [`--nodedir=${headers}`] : [])];
  const build = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 900_000 });
  if (build.status !== 0) {
    const tail = `${build.stderr}`.trim().split('\n').slice(-3).join(' | ');
    return info(false, `native build failed: ${tail.slice(0, 300)}`);
  }
  error = probe('isolated-vm');
  return error ? info(false, `built but does not load: ${error}`) : info(true, 'built here with node-gyp');
}

function python(): PeerInfo & { path?: string } {
  const result = spawnSync(
    'python3',
    ['-c', 'import sys, platform; print(sys.executable); print(platform.python_version())'],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) return { name: 'python3', version: '?', available: false, note: 'python3 not found' };
  const [path, version] = result.stdout.trim().split('\n');
  return { name: 'python3', version: version ?? '?', available: true, path: path!, note: path! };
}

/** `python (cpython-wasi)`, from the guest's artifact manifest. */
function backend(name: string): string {
  try {
    const manifest = join(dirname(require.resolve(`${name}/package.json`)), 'artifact', 'manifest.json');
    const { language, backend: built } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      language: string;
      backend: string;
    };
    return `${language} (${built})`;
  } catch {
    return `${name} (not built)`;
  }
}

export interface Peers extends Record<PeerName, PeerInfo> {
  /** Absolute path of the native interpreter (not a pyenv-style shim). */
  pythonPath: string;
}

export function setupPeers(log: (line: string) => void, install: boolean): Peers {
  const guests = ['@component-sandbox/guest-python', '@component-sandbox/guest-javascript'];
  const missingGuest = guests.find(
    (name) => !existsSync(join(dirname(require.resolve(`${name}/package.json`)), 'artifact', 'manifest.json')),
  );
  const hostError = probe('@component-sandbox/host');
  const oursNote = hostError
    ? `the host does not load (${hostError}); run pnpm build`
    : missingGuest
      ? `${missingGuest} has no built artifact; run pnpm build`
      : undefined;
  const native = python();
  const withProbe = (name: string, specifier: string): PeerInfo => {
    const version = packageVersion(specifier);
    const error = version === '?' ? 'not installed (pnpm install)' : probe(specifier);
    return { name, version, available: !error, ...(error ? { note: error } : {}) };
  };
  return {
    ours: {
      name: 'component-sandbox',
      version: `host ${packageVersion('@component-sandbox/host')}; guests: ${guests.map(backend).join(', ')}`,
      available: !oursNote,
      ...(oursNote ? { note: oursNote } : {}),
    },
    pyodide: withProbe('Pyodide', 'pyodide'),
    monty: withProbe('Monty', '@pydantic/monty'),
    native: {
      name: native.name,
      version: native.version,
      available: native.available,
      ...(native.note ? { note: native.note } : {}),
    },
    quickjs: withProbe('quickjs-emscripten', 'quickjs-emscripten'),
    'isolated-vm': isolatedVm(log, install),
    node: { name: 'Node', version: process.version, available: true },
    pythonPath: native.path ?? 'python3',
  };
}

export function autocannonVersion(): string {
  return packageVersion('autocannon');
}
