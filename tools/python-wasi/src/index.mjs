// Public API: a cached CPython 3.13 for wasm32-wasi (static libraries, headers, stdlib tree).

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILD_INPUTS,
  PYTHON_SOURCE_PACKAGE,
  PrivateApt,
  REQUIRED_APT_PACKAGES,
  aptUsability,
  ensureAptPackages,
  missingAptPackages,
} from './apt.mjs';
import { MANIFEST_NAME, cacheKey, defaultCacheRoot, publishEntry, readCachedManifest } from './cache.mjs';
import {
  CLANG,
  buildTriple,
  clangVersion,
  configure,
  createSysroot,
  embedderCFlags,
  installHeaders,
  linkInputs,
  make,
  sysconfigDataFile,
  targetFlags,
} from './cross-build.mjs';
import { buildNativePython, cachedNativePython, nativePythonKey } from './native-python.mjs';
import { phase, secondsSince, stderrLog } from './progress.mjs';
import {
  GUEST_STDLIB_PATH,
  GUEST_TZPATH,
  copyStdlib,
  installSysconfigData,
  installZoneinfo,
  precompileStdlib,
} from './stdlib.mjs';
import { WASM_LIBS, buildWasmLibs, configureEnvFor } from './wasm-libs.mjs';

export { REQUIRED_APT_PACKAGES, GUEST_STDLIB_PATH, GUEST_TZPATH, defaultCacheRoot };
export { unpackDebianPythonPackages } from './debian-python-packages.mjs';

const MANIFEST_FORMAT = 2;

/**
 * Returns the cached toolchain, building it first (several minutes) when the cache has no entry
 * for the current key. Installs missing host apt packages when running as root.
 * @param {{ log?: (message: string) => void, cacheRoot?: string }} [options]
 */
export async function ensurePythonWasi({ log = stderrLog, cacheRoot = defaultCacheRoot() } = {}) {
  mkdirSync(cacheRoot, { recursive: true });
  const inputs = await prepareInputs({ log, cacheRoot });
  const key = cacheKey(inputs.versions);
  const entryDir = join(cacheRoot, key);
  if (readCachedManifest(entryDir)) return describeEntry(entryDir);
  await buildEntry({ log, cacheRoot, inputs, key, entryDir });
  return describeEntry(entryDir);
}

/**
 * Whether ensurePythonWasi can work here, without doing anything slow or changing anything.
 * @returns {Promise<{ available: true } | { available: false, reason: string }>}
 */
export async function pythonWasiAvailability() {
  if (process.platform !== 'linux') return { available: false, reason: 'needs Linux with apt (Debian 12 or similar)' };
  const missing = await missingAptPackages();
  if (missing.length === 0) return { available: true };
  const apt = await aptUsability();
  if (apt.ok) return { available: true };
  return { available: false, reason: `missing apt packages ${missing.join(' ')} and ${apt.reason}` };
}

/**
 * Installs missing host packages, makes sure each suite's private package lists exist, and
 * resolves the version of every build input. Those versions, clang's and this package's build
 * code make the cache key: a hit needs no network.
 */
async function prepareInputs({ log, cacheRoot }) {
  const logFile = join(cacheRoot, 'apt.log');
  const missing = await missingAptPackages();
  if (missing.length > 0)
    await phase(log, `apt-get install ${missing.join(' ')}`, () => ensureAptPackages({ logFile }));
  /** @type {Record<string, PrivateApt>} */
  const aptBySuite = {};
  for (const { suite } of Object.values(BUILD_INPUTS)) {
    if (aptBySuite[suite]) continue;
    const apt = new PrivateApt({ dir: join(cacheRoot, 'apt', suite), suite });
    if (!apt.hasLists()) await phase(log, `apt-get update (${suite}, private lists)`, () => apt.ensureLists(logFile));
    aptBySuite[suite] = apt;
  }
  /** @type {Record<string, string>} */
  const versions = { clangVersion: await clangVersion() };
  for (const [name, { suite, kind }] of Object.entries(BUILD_INPUTS)) {
    const apt = aptBySuite[suite];
    versions[name] = kind === 'source' ? await apt.sourceVersion(name) : await apt.binaryVersion(name);
  }
  return { versions, aptBySuite };
}

/** Builds in a temporary directory of the cache root and renames it into place at the end. */
async function buildEntry({ log, cacheRoot, inputs, key, entryDir }) {
  const started = performance.now();
  const { versions, aptBySuite } = inputs;
  log(`[python-wasi] building CPython for wasm32-wasi (takes several minutes; cached afterwards), cache key ${key}`);
  const workDir = mkdtempSync(join(cacheRoot, '.build-'));
  const logFile = join(workDir, 'build.log');
  const outDir = join(workDir, 'out');
  const step = (name, work) => phase(log, name, work);
  try {
    /** @type {Record<string, string>} */
    const sources = {};
    await step('download and unpack sources and packages', async () => {
      for (const [name, { suite, kind }] of Object.entries(BUILD_INPUTS)) {
        const apt = aptBySuite[suite];
        if (kind === 'source')
          sources[name] = await apt.fetchSource({ name, version: versions[name], destDir: workDir, logFile });
        else
          sources[name] = await apt.fetchBinary({
            name,
            version: versions[name],
            downloadDir: join(workDir, 'downloads'),
            destDir: join(workDir, name),
            logFile,
          });
      }
    });
    const sourceDir = sources[PYTHON_SOURCE_PACKAGE];
    const version = pythonVersion(sourceDir);
    const minorVersion = version.split('.').slice(0, 2).join('.');
    log(`[python-wasi] CPython ${version} (${PYTHON_SOURCE_PACKAGE} ${versions[PYTHON_SOURCE_PACKAGE]})`);

    const nativeKey = await nativePythonKey(versions[PYTHON_SOURCE_PACKAGE]);
    const buildPython =
      cachedNativePython({ cacheRoot, key: nativeKey, minorVersion }) ??
      (await step(`native build python ${version} (configure, make, install)`, () =>
        buildNativePython({
          cacheRoot,
          key: nativeKey,
          debianSourceVersion: versions[PYTHON_SOURCE_PACKAGE],
          minorVersion,
          sourceDir,
          logFile,
        }),
      ));

    const sysrootDir = createSysroot(join(outDir, 'sysroot'), sources['wasi-libc']);
    const depsDir = join(workDir, 'deps');
    const triple = await buildTriple(sourceDir);
    await buildWasmLibs({ sources, depsDir, sysrootDir, buildTriple: triple, logFile, phase: step });

    const extraEnv = configureEnvFor(depsDir);
    await step('configure (wasm32-wasi)', () =>
      configure({ sourceDir, sysrootDir, buildPython, tzPath: GUEST_TZPATH, extraEnv, logFile }),
    );
    await step('make', () => make({ sourceDir, sysrootDir, extraEnv, logFile }));
    const linkage = await step('install libraries and headers', async () =>
      installBuildOutputs(sourceDir, depsDir, outDir),
    );
    await step('assemble stdlib and time-zone data', async () => assembleStdlib(sourceDir, sources.tzdata, outDir));
    await step('precompile stdlib', () => precompileStdlib(join(outDir, 'stdlib'), buildPython, logFile));
    writeManifest(outDir, { key, versions, linkage, version });
    cpSync(logFile, join(outDir, 'build.log'));
    publishEntry(outDir, entryDir);
    rmSync(workDir, { recursive: true, force: true });
    log(`[python-wasi] toolchain ready in ${secondsSince(started)} s: ${entryDir}`);
    return entryDir;
  } catch (error) {
    log(`[python-wasi] build failed; work directory kept for inspection: ${workDir} (log: ${logFile})`);
    throw error;
  }
}

/**
 * libpython and CPython's helper libraries, then the libraries its modules link (SQLite, zlib,
 * bzip2, liblzma): a static link resolves left to right, so users come before what they use.
 */
function installBuildOutputs(sourceDir, depsDir, outDir) {
  const { staticLibs: pythonLibs, systemLibFlags } = linkInputs(sourceDir);
  const staticLibs = [...pythonLibs, ...WASM_LIBS.map(({ lib }) => join(depsDir, 'lib', lib))];
  mkdirSync(join(outDir, 'lib'), { recursive: true });
  const libs = staticLibs.map((lib) => {
    const name = lib.split('/').pop();
    cpSync(lib, join(outDir, 'lib', name));
    return `lib/${name}`;
  });
  installHeaders(sourceDir, join(outDir, 'include'));
  return { libs, linkFlags: systemLibFlags, cflags: embedderCFlags(sourceDir) };
}

function assembleStdlib(sourceDir, tzdataDir, outDir) {
  const stdlibDir = join(outDir, 'stdlib');
  copyStdlib(sourceDir, stdlibDir);
  installSysconfigData(sysconfigDataFile(sourceDir), stdlibDir);
  installZoneinfo(tzdataDir, stdlibDir);
}

function writeManifest(outDir, { key, versions, linkage, version }) {
  const { clangVersion: clang, ...debianVersions } = versions;
  const manifest = {
    format: MANIFEST_FORMAT,
    key,
    version,
    debianSourceVersion: debianVersions[PYTHON_SOURCE_PACKAGE],
    clangVersion: clang,
    wasiLibcVersion: debianVersions['wasi-libc'],
    tzdataVersion: debianVersions.tzdata,
    debianPackages: debianVersions,
    ...linkage,
    includeDir: 'include',
    stdlibDir: 'stdlib',
    sysrootDir: 'sysroot',
    builtAt: new Date().toISOString(),
  };
  writeFileSync(join(outDir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The manifest with absolute paths: what callers compile and link against. */
function describeEntry(dir) {
  const manifest = readCachedManifest(dir);
  const sysrootDir = join(dir, manifest.sysrootDir);
  return {
    dir,
    key: manifest.key,
    version: manifest.version,
    debianSourceVersion: manifest.debianSourceVersion,
    clangVersion: manifest.clangVersion,
    wasiLibcVersion: manifest.wasiLibcVersion,
    tzdataVersion: manifest.tzdataVersion,
    debianPackages: manifest.debianPackages,
    clang: CLANG,
    /** Static libraries to link, libpython first. */
    libs: manifest.libs.map((lib) => join(dir, lib)),
    /** System libraries (wasi-libc emulation, libm), after the static libraries. */
    linkFlags: manifest.linkFlags,
    /** Target, sysroot and the defines CPython's headers were configured with. */
    cflags: [...targetFlags(sysrootDir), ...manifest.cflags],
    includeDir: join(dir, manifest.includeDir),
    stdlibDir: join(dir, manifest.stdlibDir),
    sysrootDir,
    /** Where an embedder's link keeps ThinLTO's compiled modules, so a relink takes seconds. */
    ltoCacheDir: join(dir, 'lto-cache'),
  };
}

function pythonVersion(sourceDir) {
  const header = readFileSync(join(sourceDir, 'Include/patchlevel.h'), 'utf8');
  const match = header.match(/#define\s+PY_VERSION\s+"([^"]+)"/);
  if (!match) throw new Error('PY_VERSION not found in Include/patchlevel.h');
  return match[1];
}
