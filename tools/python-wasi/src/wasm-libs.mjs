// The C libraries behind zlib, bz2, lzma and sqlite3, cross-compiled from Debian's source
// packages with the same clang and sysroot as CPython, as static libraries CPython's configure
// finds through ZLIB_CFLAGS/ZLIB_LIBS and friends (configure reads those instead of asking
// pkg-config when they are set).

import { cpus } from 'node:os';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLANG, WASM_FEATURE_FLAGS, targetFlags } from './cross-build.mjs';
import { runLogged } from './progress.mjs';

const AR = 'llvm-ar-19';
const OPT_CFLAGS = ['-O2', ...WASM_FEATURE_FLAGS];

/** Static libraries in link order, and the configure variables that name them. */
export const WASM_LIBS = [
  { lib: 'libsqlite3.a', configurePrefix: 'LIBSQLITE3', flag: '-lsqlite3' },
  { lib: 'libz.a', configurePrefix: 'ZLIB', flag: '-lz' },
  { lib: 'libbz2.a', configurePrefix: 'BZIP2', flag: '-lbz2' },
  { lib: 'liblzma.a', configurePrefix: 'LIBLZMA', flag: '-llzma' },
];

/**
 * SQLite's compile-time options. FTS4 (with FTS3) and FTS5 are opt-in (JSON is built in since
 * 3.38); math functions are cheap and commonly expected. No threads and no extension loading:
 * WASI has neither (SQLite's WASI build also turns off WAL, which needs shared memory).
 *
 * Locking: SQLite's WASI build defaults to the "unix-dotfile" VFS, whose only lock is a
 * `<db>.lock` directory: any reader holds it exclusively, so a second connection to the same
 * file cannot even read while the first one has a transaction open. The "unix" VFS (POSIX
 * advisory locks) instead keeps the locks of one process's connections in its own table of
 * open files (keyed by st_dev/st_ino) and uses fcntl locks only against other processes. A
 * sandbox is a single process and its /tmp is its own, so there are no other processes to lock
 * against: with fcntl's lock commands answered as "granted, nobody else holds a lock" (WASI has
 * no fcntl locks; see sqliteFcntlCompat), "unix" gives connections in one sandbox exactly the
 * locking SQLite gives connections in one process on Linux.
 */
export const SQLITE_DEFINES = [
  '-DSQLITE_ENABLE_FTS4',
  '-DSQLITE_ENABLE_FTS5',
  '-DSQLITE_DEFAULT_UNIX_VFS="unix"',
  '-DSQLITE_ENABLE_MATH_FUNCTIONS',
  '-DSQLITE_THREADSAFE=0',
  '-DSQLITE_OMIT_LOAD_EXTENSION',
  '-DSQLITE_DEFAULT_MEMSTATUS=0',
];

/** The environment CPython's configure reads to find each library in `depsDir`. */
export function configureEnvFor(depsDir) {
  const env = {};
  for (const { configurePrefix, flag } of WASM_LIBS) {
    env[`${configurePrefix}_CFLAGS`] = `-I${join(depsDir, 'include')}`;
    env[`${configurePrefix}_LIBS`] = `-L${join(depsDir, 'lib')} ${flag}`;
  }
  return env;
}

/**
 * Builds the four libraries into `<depsDir>/{include,lib}`.
 * @param {{ sources: { zlib: string, bzip2: string, 'xz-utils': string, sqlite3: string }, depsDir: string,
 *   sysrootDir: string, buildTriple: string, logFile: string, phase: <T>(name: string, work: () => Promise<T>) => Promise<T> }} options
 */
export async function buildWasmLibs({ sources, depsDir, sysrootDir, buildTriple, logFile, phase }) {
  for (const sub of ['include', 'lib', 'obj']) mkdirSync(join(depsDir, sub), { recursive: true });
  const cc = [CLANG, ...targetFlags(sysrootDir)];
  await phase('zlib (wasm32-wasi)', () => buildZlib({ sourceDir: sources.zlib, depsDir, cc, logFile }));
  await phase('bzip2 (wasm32-wasi)', () => buildBzip2({ sourceDir: sources.bzip2, depsDir, cc, logFile }));
  await phase('xz-utils liblzma (wasm32-wasi)', () =>
    buildLiblzma({ sourceDir: sources['xz-utils'], depsDir, cc, buildTriple, logFile }),
  );
  await phase('sqlite3 (wasm32-wasi)', () => buildSqlite({ sourceDir: sources.sqlite3, depsDir, cc, logFile }));
}

/** Compiles `files` (relative to sourceDir) into one static library: no configure needed. */
async function compileArchive({ sourceDir, files, cflags, cc, depsDir, lib, logFile }) {
  const objDir = join(depsDir, 'obj', lib);
  mkdirSync(objDir, { recursive: true });
  const objects = [];
  // Two at a time: the machine has few cores, and the files are small.
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const object = join(objDir, `${file.replace(/[/.]/g, '_')}.o`);
      await runLogged(cc[0], [...cc.slice(1), ...OPT_CFLAGS, ...cflags, '-c', file, '-o', object], {
        cwd: sourceDir,
        logFile,
      });
      objects.push(object);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cpus().length) }, worker));
  await runLogged(AR, ['rcs', join(depsDir, 'lib', lib), ...objects.sort()], { logFile });
}

function installHeaders(sourceDir, depsDir, headers) {
  for (const header of headers) copyFileSync(join(sourceDir, header), join(depsDir, 'include', header));
}

async function buildZlib({ sourceDir, depsDir, cc, logFile }) {
  const files = [
    'adler32',
    'compress',
    'crc32',
    'deflate',
    'gzclose',
    'gzlib',
    'gzread',
    'gzwrite',
    'infback',
    'inffast',
    'inflate',
    'inftrees',
    'trees',
    'uncompr',
    'zutil',
  ].map((name) => `${name}.c`);
  // zlib's configure only sets these two for a static build; K&R definitions warn under clang 19.
  const cflags = ['-D_LARGEFILE64_SOURCE=1', '-DHAVE_HIDDEN', '-Wno-deprecated-non-prototype'];
  await compileArchive({ sourceDir, files, cflags, cc, depsDir, lib: 'libz.a', logFile });
  installHeaders(sourceDir, depsDir, ['zlib.h', 'zconf.h']);
}

async function buildBzip2({ sourceDir, depsDir, cc, logFile }) {
  // The library part of bzip2's Makefile (OBJS), not the command-line tools.
  const files = ['blocksort', 'huffman', 'crctable', 'randtable', 'compress', 'decompress', 'bzlib'].map(
    (name) => `${name}.c`,
  );
  await compileArchive({
    sourceDir,
    files,
    cflags: ['-D_FILE_OFFSET_BITS=64'],
    cc,
    depsDir,
    lib: 'libbz2.a',
    logFile,
  });
  installHeaders(sourceDir, depsDir, ['bzlib.h']);
}

/**
 * liblzma has a generated config.h, so its own configure runs (library only). xz's common
 * thread helper calls sigprocmask, which wasi-libc's signal emulation lacks; liblzma itself
 * never calls that helper (only the xz tool does), so a no-op declaration satisfies the compiler.
 */
async function buildLiblzma({ sourceDir, depsDir, cc, buildTriple, logFile }) {
  const compat = join(depsDir, 'obj', 'wasi-sigprocmask.h');
  writeFileSync(
    compat,
    '/* Generated by @component-sandbox/python-wasi: see wasm-libs.mjs (buildLiblzma). */\n' +
      '#include <signal.h>\n' +
      '#include <sys/select.h> /* wasi-libc declares sigset_t here, sigprocmask nowhere */\n' +
      'static inline int sigprocmask(int how, const sigset_t *set, sigset_t *old) {\n' +
      '  (void)how; (void)set; (void)old; return 0;\n}\n',
  );
  const env = {
    ...process.env,
    CC: cc.join(' '),
    AR,
    RANLIB: 'llvm-ranlib-19',
    CFLAGS: [...OPT_CFLAGS, '-D_WASI_EMULATED_SIGNAL', `-include ${compat}`].join(' '),
  };
  await runLogged(
    './configure',
    [
      '--host=wasm32-unknown-wasi',
      `--build=${buildTriple}`,
      `--prefix=${depsDir}`,
      '--disable-shared',
      '--enable-static',
      '--disable-threads',
      '--disable-xz',
      '--disable-xzdec',
      '--disable-lzmadec',
      '--disable-lzmainfo',
      '--disable-lzma-links',
      '--disable-scripts',
      '--disable-doc',
      '--disable-nls',
      '--disable-rpath',
    ],
    { cwd: sourceDir, env, logFile },
  );
  await runLogged('make', ['-j', String(cpus().length), '-C', 'src/liblzma'], { cwd: sourceDir, env, logFile });
  await runLogged('make', ['-C', 'src/liblzma', 'install'], { cwd: sourceDir, env, logFile });
}

/**
 * SQLite's canonical source is generated into the amalgamation (sqlite3.c, which includes FTS5
 * in 3.46) by a native configure + make with tclsh; only that one file is cross-compiled.
 */
async function buildSqlite({ sourceDir, depsDir, cc, logFile }) {
  const nativeDir = join(depsDir, 'obj', 'sqlite-amalgamation');
  mkdirSync(nativeDir, { recursive: true });
  const hostEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !['CC', 'CFLAGS', 'CONFIG_SITE'].includes(name)),
  );
  await runLogged(join(sourceDir, 'configure'), ['--disable-tcl', '--disable-readline'], {
    cwd: nativeDir,
    env: hostEnv,
    logFile,
  });
  await runLogged('make', ['sqlite3.c'], { cwd: nativeDir, env: hostEnv, logFile });
  const compat = join(depsDir, 'obj', 'wasi-sqlite-fcntl.h');
  writeFileSync(compat, sqliteFcntlCompat());
  await compileArchive({
    sourceDir: nativeDir,
    files: ['sqlite3.c'],
    cflags: [...SQLITE_DEFINES, '-include', compat],
    cc,
    depsDir,
    lib: 'libsqlite3.a',
    logFile,
  });
  installHeaders(nativeDir, depsDir, ['sqlite3.h']);
  // sqlite3ext.h is not generated; CPython includes only sqlite3.h, but keep the pair together.
  const ext = readdirSync(join(sourceDir, 'src')).includes('sqlite3ext.h');
  if (ext) copyFileSync(join(sourceDir, 'src', 'sqlite3ext.h'), join(depsDir, 'include', 'sqlite3ext.h'));
}

/**
 * A header forced into the SQLite build: fcntl with POSIX advisory lock commands that succeed.
 * wasi-libc's fcntl knows only F_GETFD/F_SETFD/F_GETFL/F_SETFL and fails the lock commands with
 * EINVAL, which SQLite's "unix" VFS reports as SQLITE_IOERR_LOCK. Within one process the VFS
 * decides every conflict itself before it asks fcntl (see SQLITE_DEFINES), so fcntl only ever
 * answers for other processes, of which a sandbox has none: F_SETLK/F_SETLKW are granted and
 * F_GETLK reports no conflicting lock (F_UNLCK). The lock constants are SQLite's own values for
 * WASI on wasm32 (os_unix.c defines them when libc does not); defining them here first keeps
 * the two in step. Only SQLite sees this wrapper: the rest of CPython keeps wasi-libc's fcntl.
 */
function sqliteFcntlCompat() {
  return `/* Generated by @component-sandbox/python-wasi: see wasm-libs.mjs (sqliteFcntlCompat). */
#include <fcntl.h>
#include <stdarg.h>
#ifndef F_RDLCK
# define F_RDLCK 0
# define F_WRLCK 1
# define F_UNLCK 2
# define F_GETLK 12
# define F_SETLK 13
# define F_SETLKW 14
#endif
static int sqlite_wasi_fcntl(int fd, int cmd, ...) {
  va_list args;
  va_start(args, cmd);
  int result;
  if (cmd == F_GETLK) {
    struct flock *lock = va_arg(args, struct flock *);
    lock->l_type = F_UNLCK;
    result = 0;
  } else if (cmd == F_SETLK || cmd == F_SETLKW) {
    result = 0;
  } else if (cmd == F_SETFD || cmd == F_SETFL) {
    result = fcntl(fd, cmd, va_arg(args, int));
  } else {
    result = fcntl(fd, cmd);
  }
  va_end(args);
  return result;
}
#define fcntl sqlite_wasi_fcntl
`;
}
