// Cross-compiles CPython for wasm32-wasi with Debian's clang/lld 19 and wasi-libc, using
// CPython's own WASI support (Tools/wasm/config.site-wasm32-wasi).

import { cpus } from 'node:os';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, runLogged } from './progress.mjs';

export const BUILD_PYTHON = '/usr/bin/python3.11';
export const CLANG = 'clang-19';
const WASI_TARGET = 'wasm32-wasi';
const WASI_LIBC_INCLUDE = '/usr/include/wasm32-wasi';
const WASI_LIBC_LIB = '/usr/lib/wasm32-wasi';

// Clang >= 16 turns these into errors; CPython 3.11 trips them on wasi-libc, whose clock ids
// are pointers (Modules/timemodule.c). They are harmless there, so keep them warnings.
const CLANG16_COMPAT_CFLAGS = [
  '-Wno-error=int-conversion',
  '-Wno-error=incompatible-function-pointer-types',
  '-Wno-error=implicit-function-declaration',
];

/**
 * A private sysroot of two symlinks. Without --sysroot, Debian's clang also searches the host's
 * /usr/include, and glibc headers leak into a wasm build.
 */
export function createSysroot(sysrootDir) {
  for (const [kind, target] of [
    ['include', WASI_LIBC_INCLUDE],
    ['lib', WASI_LIBC_LIB],
  ]) {
    mkdirSync(join(sysrootDir, kind), { recursive: true });
    const link = join(sysrootDir, kind, WASI_TARGET);
    if (!existsSync(link)) symlinkSync(target, link);
  }
  return sysrootDir;
}

/** Compiler flags that select the wasm target and our sysroot. */
export function targetFlags(sysrootDir) {
  return [`--target=${WASI_TARGET}`, `--sysroot=${sysrootDir}`];
}

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

function crossEnv(sourceDir, sysrootDir) {
  const target = targetFlags(sysrootDir).join(' ');
  return {
    ...process.env,
    CONFIG_SITE: join(sourceDir, 'Tools/wasm/config.site-wasm32-wasi'),
    CC: `${CLANG} ${target}`,
    CPP: `${CLANG} ${target} -E`,
    CXX: `clang++-19 ${target}`,
    AR: 'llvm-ar-19',
    RANLIB: 'llvm-ranlib-19',
    LDSHARED: 'wasm-ld-19',
    // Only the sysroot may answer pkg-config queries; the host's .pc files describe x86 libraries.
    PKG_CONFIG_PATH: '',
    PKG_CONFIG_LIBDIR: `${sysrootDir}/lib/pkgconfig:${sysrootDir}/share/pkgconfig`,
    PKG_CONFIG_SYSROOT_DIR: sysrootDir,
  };
}

export async function configure({ sourceDir, sysrootDir, logFile }) {
  const triple = await buildTriple(sourceDir);
  // An empty Setup.local keeps make from looking for one elsewhere.
  writeFileSync(join(sourceDir, 'Modules/Setup.local'), '');
  await runLogged(
    './configure',
    ['-C', '--host=wasm32-unknown-wasi', `--build=${triple}`, `--with-build-python=${BUILD_PYTHON}`],
    { cwd: sourceDir, env: crossEnv(sourceDir, sysrootDir), logFile },
  );
  return triple;
}

export async function make({ sourceDir, sysrootDir, logFile }) {
  await runLogged('make', [`-j${cpus().length}`, `EXTRA_CFLAGS=${CLANG16_COMPAT_CFLAGS.join(' ')}`], {
    cwd: sourceDir,
    env: crossEnv(sourceDir, sysrootDir),
    logFile,
  });
}

/**
 * What an embedder links: libpython plus the static helper libraries CPython built for its
 * built-in modules (libmpdec for _decimal, libexpat for pyexpat), and the system libraries
 * configure chose (wasi-libc's emulation libraries, libm).
 * @returns {{ staticLibs: string[], systemLibFlags: string[] }}
 */
export function linkInputs(sourceDir) {
  const staticLibs = [join(sourceDir, 'libpython3.11.a'), ...findStaticLibs(join(sourceDir, 'Modules'))];
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
