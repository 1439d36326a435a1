/**
 * The names and defaults that more than one package relies on, written once: the guest
 * languages and the packages that carry their prebuilt guests, where guests see their
 * read-only trees, and the default limits every adapter starts from.
 */

export const LANGUAGES = ['python', 'javascript'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The prebuilt guest package of each language; adapters load the default guest from it. */
export const GUEST_PACKAGES: Readonly<Record<Language, string>> = {
  python: '@component-sandbox/guest-python',
  javascript: '@component-sandbox/guest-javascript',
};

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Where a Python guest sees the standard library (read-only). */
export const PYTHON_STDLIB_GUEST_PATH = '/python';
/** Where a Python guest sees the extra modules its build shipped beside guest.py (read-only). */
export const PYTHON_APP_GUEST_PATH = '/app';
/** Where a guest with a virtual root (manifest `virtualRoot`) sees its writable scratch directory. */
export const SCRATCH_GUEST_PATH = '/tmp';
/** Where a Python guest sees a package directory its host mounts (`packages`); on `sys.path`. */
export const PYTHON_PACKAGES_GUEST_PATH = '/packages';

/** Wall-clock limit of one call when the caller names none: the reference demo's 5 s. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Guest linear memory limit when the caller names none: the reference demo's 20 MiB. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 20 * 1024 * 1024;
