/**
 * The boundary between the generic pipeline (component -> transpiled artifact + manifest)
 * and the language-specific toolchains that turn a guest source into a component.
 */
import type { Language } from '@component-sandbox/wit';

export type GuestLanguage = Language;

export interface BackendInput {
  /** Absolute path of the guest source file (guest.py, guest.js). */
  sourcePath: string;
  /**
   * Absolute paths of Python modules (`*.py`) and package directories shipped beside the guest
   * source and importable by it; always empty for JavaScript.
   */
  includes: string[];
  /** Absolute path of the WIT directory holding world `sandbox`. */
  witDir: string;
  /** World name; always `sandbox` today. */
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

export interface BackendOutput {
  /** The finished component binary (world `sandbox`). */
  component: Uint8Array;
  /** Read-only trees to ship next to the artifact, in preopen order. */
  readOnlyTrees: ReadOnlyTree[];
  /** Free-form facts recorded in the manifest (toolchain versions, flags). */
  toolchain: Record<string, string>;
}

export interface Backend {
  readonly name: string;
  readonly language: GuestLanguage;
  /** Whether this backend can run on this machine; a reason when it cannot. */
  availability(): Promise<{ available: true } | { available: false; reason: string }>;
  build(input: BackendInput): Promise<BackendOutput>;
}
