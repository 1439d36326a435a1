/** A CPython 3.11 for wasm32-wasi in the cache: everything needed to embed it in a guest. */
export interface PythonWasiToolchain {
  /** The cache entry, `<cacheRoot>/<key>`. */
  dir: string;
  /** 16 hex digits: hash of this package's build code, the Debian source version, clang and wasi-libc. */
  key: string;
  /** CPython's version, e.g. `3.11.2`. */
  version: string;
  /** The Debian source package version built, e.g. `3.11.2-6+deb12u8`. */
  debianSourceVersion: string;
  /** First line of `clang-19 --version`. */
  clangVersion: string;
  /** Debian version of the wasi-libc package. */
  wasiLibcVersion: string;
  /** The C compiler driver to use with `cflags` (`clang-19`). */
  clang: string;
  /** Static libraries to link, libpython first (libpython3.11.a, libmpdec.a, libexpat.a). */
  libs: string[];
  /** System libraries configure chose (wasi-libc emulation libraries, -lm), after `libs`. */
  linkFlags: string[];
  /** `--target=wasm32-wasi`, `--sysroot=<private sysroot>` and any defines CPython's headers need. */
  cflags: string[];
  /** CPython's headers including the generated pyconfig.h. */
  includeDir: string;
  /** The stdlib tree to mount read-only at GUEST_STDLIB_PATH, with precompiled .pyc files. */
  stdlibDir: string;
  /** A sysroot of symlinks to Debian's wasi-libc, so clang never sees the host's /usr/include. */
  sysrootDir: string;
}

export interface EnsurePythonWasiOptions {
  /** Progress lines (phase names, seconds); default: stderr. */
  log?: (message: string) => void;
  /** Default: `$COMPONENT_SANDBOX_CACHE/python-wasi`, else `${XDG_CACHE_HOME:-~/.cache}/component-sandbox/python-wasi`. */
  cacheRoot?: string;
}

/** The cached toolchain; builds it (a few minutes, installing apt packages as root) on a miss. */
export function ensurePythonWasi(options?: EnsurePythonWasiOptions): Promise<PythonWasiToolchain>;

/** Whether ensurePythonWasi can work on this machine; cheap, changes nothing. */
export function pythonWasiAvailability(): Promise<{ available: true } | { available: false; reason: string }>;

/** The cache root used when none is passed. */
export function defaultCacheRoot(env?: NodeJS.ProcessEnv): string;

/** Debian packages the build needs. */
export const REQUIRED_APT_PACKAGES: readonly string[];

/** Where guests mount the stdlib tree (`/python`); .pyc files record paths under it. */
export const GUEST_STDLIB_PATH: string;
