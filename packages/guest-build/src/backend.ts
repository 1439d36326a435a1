/**
 * The boundary between the generic pipeline (component -> transpiled artifact + manifest)
 * and the language-specific toolchains that turn a guest source into a component.
 */
import type { InterruptInfo, Language } from '@component-sandbox/wit';

export type GuestLanguage = Language;

export interface BackendInput {
  /** Absolute path of the guest source file (guest.py, guest.js). */
  sourcePath: string;
  /**
   * Absolute paths of Python modules (`*.py`) and package directories shipped beside the guest
   * source and importable by it; always empty for JavaScript.
   */
  includes: string[];
  /** Python only: a directory of pure-Python packages to bake in (shipped at /app/site-packages). */
  packagesDir?: string;
  /** Python only: modules to import while pre-initialising, so they import instantly later. */
  preload: string[];
  /** Absolute path of the WIT directory holding world `sandbox`. */
  witDir: string;
  /** World name: `sandbox-extended` (the default) or `sandbox`. */
  world: string;
  /** Scratch directory owned by this build; the backend may write anything here. */
  workDir: string;
  /** Progress lines for humans (stderr of the CLI). */
  log: (message: string) => void;
}

/** A read-only directory tree the guest needs at run time, mounted by the host. */
export interface ReadOnlyTree {
  /** Absolute path inside the guest, e.g. `/python`. */
  guestPath: string;
  /** Directory on the build machine whose contents are copied into the artifact. */
  sourceDir: string;
}

/**
 * Where the host writes to stop a call (see `interrupt` in the manifest). The pipeline inserts
 * the hard-stop checks into the transpiled core modules and picks the value that trips them.
 */
export interface BackendInterruptWords {
  /**
   * Address of the hard-stop word in the guest's linear memory: 4-byte aligned, and a word no
   * guest code reads or writes.
   */
  hardStopAddress: number;
  /**
   * The word lies in the stack region of a module whose stack comes first (see
   * JAVASCRIPT_HARD_STOP_ADDRESS): the build checks that the stack starts at least 64 KiB above.
   */
  inStack?: boolean;
  /** CPython's soft stop, for Python guests whose shim publishes it. */
  python?: InterruptInfo['python'];
}

export interface BackendOutput {
  /** The finished component binary (world `sandbox`). */
  component: Uint8Array;
  /** Read-only trees to ship next to the artifact, in preopen order. */
  readOnlyTrees: ReadOnlyTree[];
  /**
   * The guest was pre-initialised with a preopen of `/` after those trees, which the host
   * routes at run time (the sandbox's writable `/tmp`, mounts named when a sandbox is made).
   */
  virtualRoot?: boolean;
  /**
   * Parts of those trees the guest also sees at another path, routed through `/` (needs
   * `virtualRoot`): `subdir` of `readOnlyTrees[tree]`, seen at `guestPath`.
   */
  routedTrees?: { guestPath: string; tree: number; subdir: string }[];
  /** Free-form facts recorded in the manifest (toolchain versions, flags). */
  toolchain: Record<string, string>;
  /** The interrupt words; without them the artifact has no `interrupt` and no checks. */
  interrupt?: BackendInterruptWords;
}

export interface Backend {
  readonly name: string;
  readonly language: GuestLanguage;
  /** Whether this backend can run on this machine; a reason when it cannot. */
  availability(): Promise<{ available: true } | { available: false; reason: string }>;
  build(input: BackendInput): Promise<BackendOutput>;
}
