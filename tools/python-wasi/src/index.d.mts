/** A CPython 3.13 for wasm32-wasi in the cache: everything needed to embed it in a guest. */
export interface PythonWasiToolchain {
  /** The cache entry, `<cacheRoot>/<key>`. */
  dir: string;
  /** 16 hex digits: hash of this package's build code, the Debian versions of every input, and clang. */
  key: string;
  /** CPython's version, e.g. `3.13.5`. */
  version: string;
  /** The Debian version of the python3.13 source package built, e.g. `3.13.5-2+deb13u5`. */
  debianSourceVersion: string;
  /** First line of `clang-19 --version`. */
  clangVersion: string;
  /** Debian version of the (trixie) wasi-libc package the sysroot holds. */
  wasiLibcVersion: string;
  /** Debian version of the tzdata package whose zones are in the stdlib tree. */
  tzdataVersion: string;
  /** Debian version of every input package, by package name (python3.13, sqlite3, zlib, ...). */
  debianPackages: Record<string, string>;
  /** The C compiler driver to use with `cflags` (`clang-19`). */
  clang: string;
  /** Static libraries in link order: libpython3.13.a, CPython's helpers (HACL*, libmpdec, libexpat), then libsqlite3, libz, libbz2, liblzma. */
  libs: string[];
  /** System libraries configure chose (wasi-libc emulation libraries, -lm), after `libs`. */
  linkFlags: string[];
  /** `--target=wasm32-wasi`, `--sysroot=<private sysroot>` and any defines CPython's headers need. */
  cflags: string[];
  /** CPython's headers including the generated pyconfig.h. */
  includeDir: string;
  /** The stdlib tree to mount read-only at GUEST_STDLIB_PATH, with precompiled .pyc files and `zoneinfo-data/`. */
  stdlibDir: string;
  /** trixie's wasi-libc as a sysroot inside the entry, so clang never sees the host's /usr/include. */
  sysrootDir: string;
  /**
   * The static libraries hold LLVM bitcode (thin LTO): the embedder's link compiles them, which
   * takes minutes once. Pass `-Wl,--thinlto-cache-dir=<ltoCacheDir>` and later links take seconds.
   */
  ltoCacheDir: string;
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

/** The IANA time-zone database inside the stdlib tree, as the guest sees it (`/python/zoneinfo-data`): CPython's TZPATH. */
export const GUEST_TZPATH: string;

/**
 * Downloads Debian's packages (e.g. `python3-six`) with apt and unpacks them, never installing
 * them: a new directory laid out like a `pip install --target` tree. For tests.
 */
export function unpackDebianPythonPackages(packages: readonly string[]): string;
