import type { Backend, GuestLanguage } from '../backend.js';
import { componentizeJsBackend } from './componentize-js.js';
import { componentizePyBackend } from './componentize-py.js';
import { cpythonWasiBackend } from './cpython-wasi.js';

/**
 * Backends in order of preference per language; the first available one builds by default.
 * Python prefers the reference toolchain where users have it, and falls back to CPython built
 * from Debian's sources, which works with apt and npm alone.
 */
const BACKENDS: readonly Backend[] = [componentizePyBackend, cpythonWasiBackend, componentizeJsBackend];

export function backendsFor(language: GuestLanguage): Backend[] {
  return BACKENDS.filter((b) => b.language === language);
}

export function allBackends(): readonly Backend[] {
  return BACKENDS;
}
