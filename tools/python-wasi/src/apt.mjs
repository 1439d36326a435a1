// Everything that talks to apt: the cross toolchain packages, a deb-src entry, the source.
//
// Debian ships all we need: clang/lld 19 with a wasm32 backend, wasi-libc, the wasm32 compiler
// builtins, and python3.11 both as the source package we cross-compile and as the build
// python that CPython's cross build insists on (configure accepts it because major.minor match).

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, runLogged } from './progress.mjs';

export const SOURCE_PACKAGE = 'python3.11';

export const REQUIRED_APT_PACKAGES = [
  'clang-19',
  'lld-19',
  'llvm-19', // llvm-ar-19, llvm-ranlib-19, llvm-strip-19
  'wasi-libc',
  'libclang-rt-19-dev-wasm32',
  'dpkg-dev', // apt-get source unpacks with dpkg-source
  'build-essential',
  'pkg-config',
  'python3.11', // /usr/bin/python3.11 is the build python
];

const SOURCES_DIR = '/etc/apt/sources.list.d';
const OUR_DEB_SRC_FILE = join(SOURCES_DIR, 'component-sandbox-deb-src.sources');
const DEBIAN_ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
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
 * Whether apt can be used to install or configure anything; a reason when it cannot.
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

/** Installs whatever of REQUIRED_APT_PACKAGES is missing. No-op (and fast) when all are there. */
export async function ensureAptPackages({ logFile }) {
  const missing = await missingAptPackages();
  if (missing.length === 0) return [];
  await assertAptUsable(`to install ${missing.join(' ')}`, `apt-get install -y ${missing.join(' ')}`);
  await aptGetUpdate(logFile);
  await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    env: NONINTERACTIVE_ENV,
    logFile,
  });
  return missing;
}

/**
 * The Debian versions of the python3.11 source package apt knows (e.g. `3.11.2-6+deb12u9`),
 * newest first, adding a deb-src entry first when apt knows no source packages.
 */
export async function ensureSourceVersions({ logFile }) {
  const known = await knownSourceVersions();
  if (known.length > 0) return known;
  await assertAptUsable('to add a deb-src entry', `add a deb-src line for bookworm and run apt-get update`);
  writeDebSrcEntry();
  aptListsUpdated = false; // the new entry's lists are not downloaded yet
  await aptGetUpdate(logFile);
  const versions = await knownSourceVersions();
  if (versions.length === 0)
    throw new Error(`apt still finds no source package ${SOURCE_PACKAGE} after adding ${OUR_DEB_SRC_FILE}`);
  return versions;
}

/**
 * `apt-get source` of the first version in `versions` that downloads completely, into
 * `destDir`. Mirrors do not always carry every suite's sources (a security update's .dsc may
 * be missing while its binaries are there), so an older version is a fallback, not an error.
 * @returns {Promise<{ version: string, sourceDir: string }>}
 */
export async function fetchFirstAvailableSource({ versions, destDir, logFile }) {
  const failures = [];
  for (const version of versions) {
    try {
      return { version, sourceDir: await fetchSource({ version, destDir, logFile }) };
    } catch (error) {
      failures.push(`${version}: ${error.message.split('\n')[0]}`);
    }
  }
  throw new Error(`no version of ${SOURCE_PACKAGE} could be fetched (log: ${logFile}):\n${failures.join('\n')}`);
}

async function fetchSource({ version, destDir, logFile }) {
  await runLogged('apt-get', ['source', '--only-source', `${SOURCE_PACKAGE}=${version}`], {
    cwd: destDir,
    env: NONINTERACTIVE_ENV,
    logFile,
  });
  const upstreamVersion = version.replace(/^\d+:/, '').replace(/-[^-]+$/, '');
  const sourceDir = join(destDir, `${SOURCE_PACKAGE}-${upstreamVersion}`);
  if (!existsSync(join(sourceDir, 'configure'))) throw new Error(`apt-get source did not produce ${sourceDir}`);
  return sourceDir;
}

async function knownSourceVersions() {
  const { code, stdout } = await capture('apt-cache', ['showsrc', '--only-source', SOURCE_PACKAGE]);
  if (code !== 0) return [];
  const versions = [...new Set([...stdout.matchAll(/^Version:\s*(\S+)/gm)].map((match) => match[1]))];
  return sortNewestFirst(versions);
}

/** Debian version order (epochs, tildes, +debNuM) is dpkg's to decide, not a string sort's. */
async function sortNewestFirst(versions) {
  const sorted = [];
  for (const version of versions) {
    let index = 0;
    while (index < sorted.length && (await dpkgVersionGreater(sorted[index], version))) index += 1;
    sorted.splice(index, 0, version);
  }
  return sorted;
}

async function dpkgVersionGreater(a, b) {
  return (await capture('dpkg', ['--compare-versions', a, 'gt', b])).code === 0;
}

let aptListsUpdated = false;
async function aptGetUpdate(logFile) {
  if (aptListsUpdated) return;
  await runLogged('apt-get', ['update'], { env: NONINTERACTIVE_ENV, logFile });
  aptListsUpdated = true;
}

async function assertAptUsable(purpose, manualCommand) {
  const usability = await aptUsability();
  if (!usability.ok) {
    throw new Error(`python-wasi needs apt ${purpose}, but ${usability.reason}.\nDo it by hand: ${manualCommand}`);
  }
}

/**
 * Writes a deb822 file with a `deb-src` twin of every enabled Debian `deb` entry, so source
 * packages come from the same mirrors (and snapshot) as the installed binaries.
 */
function writeDebSrcEntry() {
  const stanzas = debianBinaryStanzas().map((fields) =>
    Object.entries({ ...fields, Types: 'deb-src' })
      .map(([key, value]) => `${key}: ${value}`)
      .join('\n'),
  );
  const fallback = [
    `Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: ${DEBIAN_ARCHIVE_KEYRING}`,
    `Types: deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: ${DEBIAN_ARCHIVE_KEYRING}`,
  ];
  const body = (stanzas.length > 0 ? stanzas : fallback).join('\n\n');
  writeFileSync(OUR_DEB_SRC_FILE, `# Added by @component-sandbox/python-wasi for apt-get source python3.11\n${body}\n`);
}

/** Enabled `deb` entries that point at a Debian archive, from deb822 and one-line sources. */
function debianBinaryStanzas() {
  const entries = [...deb822Entries(), ...oneLineEntries()];
  return entries.filter(
    (fields) =>
      /(^|\s)deb(\s|$)/.test(fields.Types ?? '') &&
      (fields.Enabled ?? 'yes') !== 'no' &&
      /\/debian(-security)?\/?(\s|$)/.test(fields.URIs ?? ''),
  );
}

function deb822Entries() {
  if (!existsSync(SOURCES_DIR)) return [];
  return readdirSync(SOURCES_DIR)
    .filter((name) => name.endsWith('.sources') && join(SOURCES_DIR, name) !== OUR_DEB_SRC_FILE)
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
    .map((line) =>
      line.trim().match(/^deb\s+(?:\[(?<options>[^\]]*)\]\s+)?(?<uri>\S+)\s+(?<suite>\S+)\s+(?<components>.+)$/),
    )
    .filter(Boolean)
    .map(({ groups }) => {
      const signedBy = groups.options?.match(/signed-by=(\S+)/)?.[1];
      return {
        Types: 'deb',
        URIs: groups.uri,
        Suites: groups.suite,
        Components: groups.components.trim(),
        ...(signedBy ? { 'Signed-By': signedBy } : {}),
      };
    });
}
