// Everything that talks to apt: the host toolchain packages, and the Debian packages the build
// is made from (sources and two architecture-independent binary packages).
//
// The host toolchain (clang/lld 19 with a wasm32 backend, the wasm32 compiler builtins, gcc for
// the native build python, tclsh for SQLite's amalgamation) is installed from the machine's own
// suite. Everything the build is *made from* comes from a private apt state directory per
// suite under the cache root: its own sources.list, package lists and download cache. Reading
// trixie's lists there never changes the machine's lists or installed packages, and nothing
// from trixie is ever installed: sources are unpacked with dpkg-source, binaries with dpkg -x.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, runLogged } from './progress.mjs';

export const REQUIRED_APT_PACKAGES = [
  'clang-19',
  'lld-19',
  'llvm-19', // llvm-ar-19, llvm-ranlib-19, llvm-strip-19
  'libclang-rt-19-dev-wasm32',
  'dpkg-dev', // dpkg-source unpacks the source packages
  'build-essential', // gcc and make for the native build python
  'pkg-config',
  'tcl8.6', // tclsh generates SQLite's amalgamation
  'xz-utils', // the .orig.tar.xz of several source packages
];

/**
 * What the build is made from, and which suite each comes from:
 * - trixie: CPython 3.13; SQLite 3.46 (3.41 added the WASI build to its Unix VFS, bookworm's
 *   3.40 does not compile for wasm32-wasi); wasi-libc from 2024 (CPython 3.13 needs a newer one
 *   than bookworm's 2022 snapshot); tzdata (the IANA database, binary only: its source is not
 *   served).
 * - bookworm: zlib, bzip2, xz-utils, the same versions as the machine's own libraries.
 * @type {Record<string, { suite: string, kind: 'source' | 'binary' }>}
 */
export const BUILD_INPUTS = {
  'python3.13': { suite: 'trixie', kind: 'source' },
  sqlite3: { suite: 'trixie', kind: 'source' },
  'wasi-libc': { suite: 'trixie', kind: 'binary' },
  tzdata: { suite: 'trixie', kind: 'binary' },
  zlib: { suite: 'bookworm', kind: 'source' },
  bzip2: { suite: 'bookworm', kind: 'source' },
  'xz-utils': { suite: 'bookworm', kind: 'source' },
};

export const PYTHON_SOURCE_PACKAGE = 'python3.13';

const SOURCES_DIR = '/etc/apt/sources.list.d';
const DEBIAN_ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const NONINTERACTIVE_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** @param {string[]} packages @returns {Promise<string[]>} the packages not installed */
export async function missingAptPackages(packages = REQUIRED_APT_PACKAGES) {
  const { stdout } = await capture('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...packages]);
  const installed = new Set(
    stdout
      .split('\n')
      .filter((line) => / ii\s*$/.test(line))
      .map((line) => line.split(' ')[0].split(':')[0]),
  );
  return packages.filter((name) => !installed.has(name));
}

/**
 * Whether apt can be used to install anything; a reason when it cannot.
 * @returns {Promise<{ ok: true } | { ok: false, reason: string }>}
 */
export async function aptUsability() {
  if (process.platform !== 'linux') return { ok: false, reason: `apt is not available on ${process.platform}` };
  const probe = await capture('apt-get', ['--version']);
  if (probe.code !== 0) return { ok: false, reason: 'apt-get was not found (a Debian or Ubuntu machine is needed)' };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'apt-get needs root (run as root or install the packages first)' };
  return { ok: true };
}

/** Installs whatever of REQUIRED_APT_PACKAGES is missing, from the machine's own suite. */
export async function ensureAptPackages({ logFile }) {
  const missing = await missingAptPackages();
  if (missing.length === 0) return [];
  const usability = await aptUsability();
  if (!usability.ok) {
    throw new Error(
      `python-wasi needs apt to install ${missing.join(' ')}, but ${usability.reason}.\n` +
        `Do it by hand: apt-get install -y ${missing.join(' ')}`,
    );
  }
  await runLogged('apt-get', ['update'], { env: NONINTERACTIVE_ENV, logFile });
  await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    env: NONINTERACTIVE_ENV,
    logFile,
  });
  return missing;
}

/**
 * A private apt state directory for one suite: its sources.list names only that suite, and its
 * lists and caches live under `dir`. The options go on every apt-get/apt-cache command line.
 */
export class PrivateApt {
  /** @param {{ dir: string, suite: string }} options */
  constructor({ dir, suite }) {
    this.dir = dir;
    this.suite = suite;
    this.options = [
      '-o',
      `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
      '-o',
      'Dir::Etc::SourceParts=/dev/null',
      '-o',
      `Dir::State::Lists=${join(dir, 'lists')}`,
      '-o',
      `Dir::Cache=${join(dir, 'cache')}`,
      // An empty dpkg status: the machine's installed packages play no part in what is chosen.
      '-o',
      'Dir::State::status=/dev/null',
      // The cache root may be private to its user; apt's _apt sandbox user could not write it.
      '-o',
      'APT::Sandbox::User=root',
    ];
  }

  /** Whether this directory has the suite's package lists (from an earlier `update`). */
  hasLists() {
    const listsDir = join(this.dir, 'lists');
    return existsSync(listsDir) && readdirSync(listsDir).some((name) => name.includes('_Sources'));
  }

  /**
   * Downloads the suite's package lists when this directory has none. Lists are not refreshed
   * otherwise, so a cache hit needs no network; delete the directory to pick up newer versions.
   */
  async ensureLists(logFile) {
    if (this.hasLists()) return false;
    for (const sub of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(this.dir, sub), { recursive: true });
    const mirror = debianMirror();
    const line = (type) => `${type} [signed-by=${DEBIAN_ARCHIVE_KEYRING}] ${mirror} ${this.suite} main`;
    writeFileSync(
      join(this.dir, 'sources.list'),
      `# Written by @component-sandbox/python-wasi: ${this.suite} only, never used to install.\n` +
        `${line('deb')}\n${line('deb-src')}\n`,
    );
    await runLogged('apt-get', [...this.options, 'update'], { env: NONINTERACTIVE_ENV, logFile });
    return true;
  }

  /** The newest version of a source package in this suite. */
  async sourceVersion(name) {
    const { code, stdout } = await capture('apt-cache', [...this.options, 'showsrc', '--only-source', name]);
    const versions = [...stdout.matchAll(/^Version:\s*(\S+)/gm)].map((match) => match[1]);
    if (code !== 0 || versions.length === 0) throw new Error(`${this.suite} has no source package ${name}`);
    return newest(versions);
  }

  /** The newest version of a binary package in this suite. */
  async binaryVersion(name) {
    const { code, stdout } = await capture('apt-cache', [...this.options, 'show', name]);
    const versions = [...stdout.matchAll(/^Version:\s*(\S+)/gm)].map((match) => match[1]);
    if (code !== 0 || versions.length === 0) throw new Error(`${this.suite} has no binary package ${name}`);
    return newest(versions);
  }

  /**
   * `apt-get source --download-only`, then dpkg-source -x (Debian's patches applied) into
   * `<destDir>/<name>`. Returns the unpacked directory.
   */
  async fetchSource({ name, version, destDir, logFile }) {
    const downloadDir = join(destDir, 'downloads');
    mkdirSync(downloadDir, { recursive: true });
    await runLogged('apt-get', [...this.options, 'source', '--download-only', '--only-source', `${name}=${version}`], {
      cwd: downloadDir,
      env: NONINTERACTIVE_ENV,
      logFile,
    });
    const dsc = `${name}_${version.replace(/^\d+:/, '')}.dsc`;
    if (!existsSync(join(downloadDir, dsc))) throw new Error(`apt-get source did not download ${dsc}`);
    const sourceDir = join(destDir, name);
    await runLogged('dpkg-source', ['-x', dsc, sourceDir], { cwd: downloadDir, env: NONINTERACTIVE_ENV, logFile });
    return sourceDir;
  }

  /** `apt-get download` of an architecture-`all` .deb, unpacked with dpkg -x into `destDir`. */
  async fetchBinary({ name, version, downloadDir, destDir, logFile }) {
    mkdirSync(downloadDir, { recursive: true });
    await runLogged('apt-get', [...this.options, 'download', `${name}=${version}`], {
      cwd: downloadDir,
      env: NONINTERACTIVE_ENV,
      logFile,
    });
    const deb = readdirSync(downloadDir).find((file) => file.startsWith(`${name}_`) && file.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download did not produce a ${name} .deb`);
    mkdirSync(destDir, { recursive: true });
    await runLogged('dpkg', ['-x', join(downloadDir, deb), destDir], { logFile });
    return destDir;
  }
}

/** Debian version order (epochs, tildes, +debNuM) is dpkg's to decide, not a string sort's. */
async function newest(versions) {
  let best = versions[0];
  for (const version of versions.slice(1)) {
    if ((await capture('dpkg', ['--compare-versions', version, 'gt', best])).code === 0) best = version;
  }
  return best;
}

/**
 * The Debian mirror the machine already uses (its first enabled `deb` entry for a Debian
 * archive, security excluded), so downloads go where apt is known to reach.
 */
function debianMirror() {
  for (const fields of [...deb822Entries(), ...oneLineEntries()]) {
    const uris = (fields.URIs ?? '').split(/\s+/);
    const uri = uris.find((candidate) => /\/debian\/?$/.test(candidate));
    if (/(^|\s)deb(\s|$)/.test(fields.Types ?? '') && (fields.Enabled ?? 'yes') !== 'no' && uri) return uri;
  }
  return DEFAULT_DEBIAN_MIRROR;
}

function deb822Entries() {
  if (!existsSync(SOURCES_DIR)) return [];
  return readdirSync(SOURCES_DIR)
    .filter((name) => name.endsWith('.sources'))
    .flatMap((name) => parseDeb822(readFileSync(join(SOURCES_DIR, name), 'utf8')));
}

function parseDeb822(text) {
  const lines = text.split('\n').filter((line) => !line.startsWith('#'));
  return lines
    .join('\n')
    .split(/\n\s*\n/)
    .map((stanza) => {
      /** @type {Record<string, string>} */
      const fields = {};
      let lastKey;
      for (const line of stanza.split('\n')) {
        if (/^\s/.test(line) && lastKey)
          fields[lastKey] += `\n${line}`; // continuation line
        else if (line.includes(':')) {
          lastKey = line.slice(0, line.indexOf(':')).trim();
          fields[lastKey] = line.slice(line.indexOf(':') + 1).trim();
        }
      }
      return fields;
    })
    .filter((fields) => fields.Types);
}

function oneLineEntries() {
  const files = ['/etc/apt/sources.list'];
  if (existsSync(SOURCES_DIR)) {
    files.push(
      ...readdirSync(SOURCES_DIR)
        .filter((n) => n.endsWith('.list'))
        .map((n) => join(SOURCES_DIR, n)),
    );
  }
  return files
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
    .map((line) => line.trim().match(/^deb\s+(?:\[[^\]]*\]\s+)?(?<uri>\S+)\s+\S+\s+.+$/))
    .filter(Boolean)
    .map(({ groups }) => ({ Types: 'deb', URIs: groups.uri }));
}
