// Public API: a cached CPython 3.11 for wasm32-wasi (static libraries, headers, stdlib tree).

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REQUIRED_APT_PACKAGES,
  SOURCE_PACKAGE,
  aptUsability,
  ensureAptPackages,
  ensureSourceVersions,
  fetchFirstAvailableSource,
  missingAptPackages,
} from './apt.mjs';
import { MANIFEST_NAME, cacheKey, defaultCacheRoot, publishEntry, readCachedManifest } from './cache.mjs';
import {
  CLANG,
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
import { capture, phase, secondsSince, stderrLog } from './progress.mjs';
import { GUEST_STDLIB_PATH, copyStdlib, installSysconfigData, precompileStdlib } from './stdlib.mjs';

export { REQUIRED_APT_PACKAGES, GUEST_STDLIB_PATH, defaultCacheRoot };

const MANIFEST_FORMAT = 1;

/**
 * Returns the cached toolchain, building it first (a few minutes) when the cache has no entry
 * for the current key. Installs missing apt packages when running as root.
 *
 * Among the source versions apt offers, the newest one already in the cache wins; otherwise the
 * newest one that downloads completely is built.
 * @param {{ log?: (message: string) => void, cacheRoot?: string }} [options]
 */
export async function ensurePythonWasi({ log = stderrLog, cacheRoot = defaultCacheRoot() } = {}) {
  mkdirSync(cacheRoot, { recursive: true });
  const { sourceVersions, compilers } = await prepareInputs({ log, cacheRoot });
  const entryFor = (debianSourceVersion) => {
    const inputs = { debianSourceVersion, ...compilers };
    const key = cacheKey(inputs);
    return { inputs, key, dir: join(cacheRoot, key) };
  };
  const cached = sourceVersions.map(entryFor).find((entry) => readCachedManifest(entry.dir));
  if (cached) return describeEntry(cached.dir);
  const builtDir = await buildEntry({ log, cacheRoot, sourceVersions, entryFor });
  return describeEntry(builtDir);
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
 * Makes sure the toolchain packages and a source entry exist; returns what the cache key is
 * made of besides the build code.
 */
async function prepareInputs({ log, cacheRoot }) {
  const logFile = join(cacheRoot, 'apt.log');
  const missing = await missingAptPackages();
  if (missing.length > 0)
    await phase(log, `apt-get install ${missing.join(' ')}`, () => ensureAptPackages({ logFile }));
  return {
    sourceVersions: await ensureSourceVersions({ logFile }),
    compilers: {
      clangVersion: await clangVersion(),
      wasiLibcVersion: await installedVersion('wasi-libc'),
    },
  };
}

/** Builds in a temporary directory of the cache root and renames it into place at the end. */
async function buildEntry({ log, cacheRoot, sourceVersions, entryFor }) {
  const started = performance.now();
  log(`[python-wasi] building CPython for wasm32-wasi (takes a few minutes; cached afterwards)`);
  const workDir = mkdtempSync(join(cacheRoot, '.build-'));
  const logFile = join(workDir, 'build.log');
  const outDir = join(workDir, 'out');
  try {
    const { version, sourceDir } = await phase(log, `apt-get source ${SOURCE_PACKAGE}`, () =>
      fetchFirstAvailableSource({ versions: sourceVersions, destDir: workDir, logFile }),
    );
    const { inputs, key, dir: entryDir } = entryFor(version);
    log(`[python-wasi] source ${SOURCE_PACKAGE} ${version}, cache key ${key}`);
    const sysrootDir = createSysroot(join(outDir, 'sysroot'));
    await phase(log, 'configure (wasm32-wasi)', () => configure({ sourceDir, sysrootDir, logFile }));
    await phase(log, 'make', () => make({ sourceDir, sysrootDir, logFile }));
    const linkage = await phase(log, 'install libraries and headers', async () =>
      installBuildOutputs(sourceDir, outDir),
    );
    await phase(log, 'assemble stdlib', async () => assembleStdlib(sourceDir, outDir));
    await phase(log, 'precompile stdlib', () => precompileStdlib(join(outDir, 'stdlib'), logFile));
    writeManifest(outDir, { key, inputs, linkage, version: pythonVersion(sourceDir) });
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

function installBuildOutputs(sourceDir, outDir) {
  const { staticLibs, systemLibFlags } = linkInputs(sourceDir);
  mkdirSync(join(outDir, 'lib'), { recursive: true });
  const libs = staticLibs.map((lib) => {
    const name = lib.split('/').pop();
    cpSync(lib, join(outDir, 'lib', name));
    return `lib/${name}`;
  });
  installHeaders(sourceDir, join(outDir, 'include'));
  return { libs, linkFlags: systemLibFlags, cflags: embedderCFlags(sourceDir) };
}

function assembleStdlib(sourceDir, outDir) {
  const stdlibDir = join(outDir, 'stdlib');
  copyStdlib(sourceDir, stdlibDir);
  installSysconfigData(sysconfigDataFile(sourceDir), stdlibDir);
}

function writeManifest(outDir, { key, inputs, linkage, version }) {
  const manifest = {
    format: MANIFEST_FORMAT,
    key,
    version,
    ...inputs,
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
  };
}

function pythonVersion(sourceDir) {
  const header = readFileSync(join(sourceDir, 'Include/patchlevel.h'), 'utf8');
  const match = header.match(/#define\s+PY_VERSION\s+"([^"]+)"/);
  if (!match) throw new Error('PY_VERSION not found in Include/patchlevel.h');
  return match[1];
}

async function installedVersion(packageName) {
  const { code, stdout } = await capture('dpkg-query', ['-W', '-f=${Version}', packageName]);
  return code === 0 ? stdout.trim() : 'unknown';
}
