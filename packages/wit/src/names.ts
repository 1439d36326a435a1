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

/** The seed world (wit/sandbox.wit): exports `eval` and `exec`. */
export const WORLD_NAME = 'sandbox';
/**
 * The world guests are built for by default (wit/sandbox-extended.wit): `sandbox`, plus the
 * `host` import (host functions) and the `run` export (cells).
 */
export const EXTENDED_WORLD_NAME = 'sandbox-extended';
/** Every world a guest may be built for; the host runs components of either. */
export const WORLD_NAMES = [WORLD_NAME, EXTENDED_WORLD_NAME] as const;
export type WorldName = (typeof WORLD_NAMES)[number];
/** The interface of world `sandbox-extended` through which a guest calls host functions. */
export const HOST_INTERFACE = 'component-sandbox:sandbox/host';

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Where a Python guest sees the standard library (read-only). */
export const PYTHON_STDLIB_GUEST_PATH = '/python';
/** Where a Python guest sees the extra modules its build shipped beside guest.py (read-only). */
export const PYTHON_APP_GUEST_PATH = '/app';
/** Where a guest with a virtual root (manifest `virtualRoot`) sees its writable scratch directory. */
export const SCRATCH_GUEST_PATH = '/tmp';
/**
 * Where Linux keeps the IANA time-zone files, and so where code that reads them directly looks
 * (python-dateutil's `tz.gettz`, `datetime`'s own tests): a Python guest sees its stdlib's zones
 * there too, read-only.
 */
export const SYSTEM_TZDATA_GUEST_PATH = '/usr/share/zoneinfo';
/** Where a Python guest sees a package directory its host mounts (`packages`); on `sys.path`. */
export const PYTHON_PACKAGES_GUEST_PATH = '/packages';

/** Wall-clock limit of one call when the caller names none: the reference demo's 5 s. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Guest linear memory limit when the caller names none: the reference demo's 20 MiB. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 20 * 1024 * 1024;
