/** What a python-base artifact holds, as `readPythonBase()` describes it. */
export interface PythonBase {
  format: number;
  /** File name of the linked, not yet pre-initialised CPython reactor module. */
  module: string;
  /** SHA-256 of that module, hex. */
  sha256: string;
  /** Absolute path of the module. */
  modulePath: string;
  /** Directory name of the stdlib tree inside the artifact. */
  stdlibDir: string;
  /** Absolute path of the stdlib tree (read-only at run time, with precompiled bytecode). */
  stdlibPath: string;
  /** Where the guest must see the stdlib tree (`/python`). */
  stdlibGuestPath: string;
  /** Where the guest must see its own files, guest.py first (`/app`). */
  appGuestPath: string;
  /** Size of the shadow stack the module was linked with. */
  stackBytes: number;
  /**
   * The shim's table of interrupt words, which wizer.initialize fills: at `address` in linear
   * memory, `magic` NUL-padded to 32 bytes, then u32 words: the hard-stop word itself,
   * &tstate->eval_breaker, &tstate->async_exc, PyExc_KeyboardInterrupt, and the index of the
   * eval breaker's asynchronous-exception bit. Absent in bases built before the table existed.
   */
  interruptTable?: { address: number; magic: string };
  /** CPython's version, e.g. `3.13.5`. */
  python: string;
  /** The Debian source package version it was built from. */
  debianSource: string;
  clang: string;
  wasiLibc: string;
  /** Debian version of the tzdata package whose zones the stdlib tree holds. */
  tzdata: string;
  /**
   * Where the guest sees those zones (CPython's TZPATH): inside the stdlib tree. Absent in bases
   * built before it was recorded.
   */
  tzdataGuestPath?: string;
  /** Cache key of the CPython build. */
  pythonWasiKey: string;
}

/** Directory of the built base. */
export declare const baseDir: string;

/** The base's description with absolute paths; throws when the base is not built. */
export declare function readPythonBase(): PythonBase;
