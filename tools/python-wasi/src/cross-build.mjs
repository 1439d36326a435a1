// Cross-compiles CPython for wasm32-wasi with Debian's clang/lld 19 and wasi-libc, using
// CPython's own WASI support (Tools/wasm/config.site-wasm32-wasi, the flags Tools/wasm/wasi.py
// passes) and our own steps around it.

import { cpus } from 'node:os';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { capture, runLogged } from './progress.mjs';

export const CLANG = 'clang-19';
const WASI_TARGET = 'wasm32-wasi';

// Clang >= 16 turns these into errors; CPython trips them on wasi-libc, whose clock ids are
// pointers (Modules/timemodule.c). They are harmless there, so keep them warnings.
const CLANG16_COMPAT_CFLAGS = [
  '-Wno-error=int-conversion',
  '-Wno-error=incompatible-function-pointer-types',
  '-Wno-error=implicit-function-declaration',
];

/**
 * The sysroot: wasi-libc's headers and libraries from the .deb unpacked in `wasiLibcDir`, moved
 * to where `clang --target=wasm32-wasi --sysroot=` looks. Real files, not links into /usr: the
 * machine keeps its own (older) wasi-libc, and the cache entry is self-contained.
 */
export function createSysroot(sysrootDir, wasiLibcDir) {
  for (const kind of ['include', 'lib']) {
    const from = join(wasiLibcDir, 'usr', kind, WASI_TARGET);
    if (!existsSync(from)) throw new Error(`the wasi-libc package has no ${from}`);
    mkdirSync(join(sysrootDir, kind), { recursive: true });
    renameSync(from, join(sysrootDir, kind, WASI_TARGET));
  }
  return sysrootDir;
}

/** Compiler flags that select the wasm target and our sysroot. */
export function targetFlags(sysrootDir) {
  return [`--target=${WASI_TARGET}`, `--sysroot=${sysrootDir}`];
}

/**
 * WebAssembly features beyond clang 19's default set, for CPython and the libraries it links:
 * bulk memory turns memcpy/memset into single `memory.copy`/`memory.fill` instructions, and
 * non-trapping float-to-int conversions need no range checks. Node 20's V8, Wizer and Binaryen
 * support both. (Measured with thin LTO and pymalloc, see tools/bench/README.md.)
 */
export const WASM_FEATURE_FLAGS = ['-mbulk-memory', '-mnontrapping-fptoint'];

/** LLVM 19's archiver; configure wants a path for LTO, and Debian's plain llvm-ar may be older. */
const LLVM_AR = 'llvm-ar-19';

export async function clangVersion() {
  const { code, stdout } = await capture(CLANG, ['--version']);
  if (code !== 0) throw new Error(`${CLANG} --version failed; is the clang-19 package installed?`);
  return stdout.split('\n')[0].trim();
}

/**
 * The build machine's triple. It must be asked before the wasm CC is in the environment:
 * config.guess compiles probes with $CC and would answer x86_64-pc-linux-gnux32.
 */
export async function buildTriple(sourceDir) {
  const hostEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !['CC', 'CPP', 'CXX', 'CFLAGS'].includes(name)),
  );
  const { code, stdout } = await capture('sh', ['./config.guess'], { cwd: sourceDir, env: hostEnv });
  if (code !== 0 || !stdout.trim()) throw new Error('config.guess failed');
  return stdout.trim();
}

/** The absolute path of a program on PATH (configure checks LLVM_AR with `test -x`). */
function findOnPath(program) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  throw new Error(`${program} is not on PATH; is the llvm-19 package installed?`);
}

function crossEnv(sourceDir, sysrootDir, extraEnv = {}) {
  const target = targetFlags(sysrootDir).join(' ');
  return {
    ...process.env,
    ...extraEnv,
    CONFIG_SITE: join(sourceDir, 'Tools/wasm/config.site-wasm32-wasi'),
    CC: `${CLANG} ${target}`,
    CPP: `${CLANG} ${target} -E`,
    CXX: `clang++-19 ${target}`,
    AR: LLVM_AR,
    LLVM_AR: findOnPath(LLVM_AR),
    RANLIB: 'llvm-ranlib-19',
    // Kept out of CC: configure's compiler-name check breaks on flags it does not expect there.
    CFLAGS: WASM_FEATURE_FLAGS.join(' '),
    LDSHARED: 'wasm-ld-19',
    // Only the sysroot may answer pkg-config queries; the host's .pc files describe x86 libraries.
    PKG_CONFIG_PATH: '',
    PKG_CONFIG_LIBDIR: `${sysrootDir}/lib/pkgconfig:${sysrootDir}/share/pkgconfig`,
    PKG_CONFIG_SYSROOT_DIR: sysrootDir,
  };
}

/**
 * @param {{ sourceDir: string, sysrootDir: string, buildPython: string, tzPath: string,
 *   extraEnv: Record<string, string>, logFile: string }} options
 */
export async function configure({ sourceDir, sysrootDir, buildPython, tzPath, extraEnv, logFile }) {
  const triple = await buildTriple(sourceDir);
  // An empty Setup.local keeps make from looking for one elsewhere.
  writeFileSync(join(sourceDir, 'Modules/Setup.local'), '');
  await runLogged(
    './configure',
    [
      '-C',
      '--host=wasm32-unknown-wasi',
      `--build=${triple}`,
      `--with-build-python=${buildPython}`,
      // zoneinfo's default search path, recorded in sysconfig: a directory of the stdlib tree.
      `--with-tzpath=${tzPath}`,
      // _testcapi, _testinternalcapi and friends: CPython's own test suite needs them, no sandbox does.
      '--disable-test-modules',
      // CPython's small-object allocator, which configure leaves out on WASI: faster than
      // wasi-libc's dlmalloc for the many small objects Python code makes.
      '--with-pymalloc',
      // Link-time optimisation across libpython: the static libraries hold LLVM bitcode, and
      // the embedder's link (python-base) compiles it, inlining across files. The largest of
      // the speed levers measured (tools/bench/README.md).
      '--with-lto=thin',
    ],
    { cwd: sourceDir, env: crossEnv(sourceDir, sysrootDir, extraEnv), logFile },
  );
  assertModulesEnabled(sourceDir);
  return triple;
}

/** Extension modules we promise; configure silently skips one whose library it cannot link. */
const REQUIRED_MODULES = ['ZLIB', '_BZ2', '_LZMA', '_SQLITE3', 'PYEXPAT', '_DECIMAL', '_BLAKE2', '_SHA3', '_ZONEINFO'];

function assertModulesEnabled(sourceDir) {
  const makefile = readFileSync(join(sourceDir, 'Makefile'), 'utf8');
  const missing = REQUIRED_MODULES.filter((name) => makefileVariable(makefile, `MODULE_${name}_STATE`) !== 'yes');
  if (missing.length > 0)
    throw new Error(`configure did not enable ${missing.join(', ')} (see config.log in the work directory)`);
}

export async function make({ sourceDir, sysrootDir, extraEnv, logFile }) {
  await runLogged('make', [`-j${cpus().length}`, `EXTRA_CFLAGS=${CLANG16_COMPAT_CFLAGS.join(' ')}`], {
    cwd: sourceDir,
    env: crossEnv(sourceDir, sysrootDir, extraEnv),
    logFile,
  });
}

/**
 * What an embedder links: libpython plus the static helper libraries CPython built for its
 * built-in modules (libmpdec for _decimal, libexpat for pyexpat, HACL* for hashlib's SHA-2),
 * and the system libraries configure chose (wasi-libc's emulation libraries, libm).
 * @returns {{ staticLibs: string[], systemLibFlags: string[] }}
 */
export function linkInputs(sourceDir) {
  const libpython = readdirSync(sourceDir).find((name) => /^libpython3\.\d+\.a$/.test(name));
  if (!libpython) throw new Error(`make did not produce libpython3.*.a in ${sourceDir}`);
  const staticLibs = [join(sourceDir, libpython), ...findStaticLibs(join(sourceDir, 'Modules'))];
  for (const lib of staticLibs) if (!existsSync(lib)) throw new Error(`make did not produce ${lib}`);
  const makefile = readFileSync(join(sourceDir, 'Makefile'), 'utf8');
  const systemLibFlags = ['LIBS', 'SYSLIBS', 'LIBM']
    .flatMap((name) => makefileVariable(makefile, name).split(/\s+/))
    .filter((flag) => flag.startsWith('-l'));
  return { staticLibs, systemLibFlags: [...new Set(systemLibFlags)] };
}

/** Preprocessor defines CPython's headers were configured with that an embedder must repeat. */
export function embedderCFlags(sourceDir) {
  const makefile = readFileSync(join(sourceDir, 'Makefile'), 'utf8');
  return makefileVariable(makefile, 'CONFIGURE_CFLAGS')
    .split(/\s+/)
    .concat(makefileVariable(makefile, 'CONFIGURE_CPPFLAGS').split(/\s+/))
    .filter((flag) => flag.startsWith('-D'));
}

/** Copies the public headers and the generated pyconfig.h into `includeDir`. */
export function installHeaders(sourceDir, includeDir) {
  cpSync(join(sourceDir, 'Include'), includeDir, { recursive: true });
  cpSync(join(sourceDir, 'pyconfig.h'), join(includeDir, 'pyconfig.h'));
}

/** The generated `_sysconfigdata_*.py` (its directory is named in pybuilddir.txt). */
export function sysconfigDataFile(sourceDir) {
  const buildDir = join(sourceDir, readFileSync(join(sourceDir, 'pybuilddir.txt'), 'utf8').trim());
  const name = readdirSync(buildDir).find((entry) => /^_sysconfigdata_.*\.py$/.test(entry));
  if (!name) throw new Error(`no _sysconfigdata_*.py in ${buildDir}`);
  return join(buildDir, name);
}

function findStaticLibs(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.a'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

function makefileVariable(makefile, name) {
  const match = makefile.match(new RegExp(`^${name}\\s*=(.*)$`, 'm'));
  return match ? match[1].trim() : '';
}
