import type { Backend, GuestLanguage } from '../backend.js';
import { componentizeJsBackend } from './componentize-js.js';

/** Backends in order of preference per language; the first available one builds by default. */
const BACKENDS: readonly Backend[] = [componentizeJsBackend];

export function backendsFor(language: GuestLanguage): Backend[] {
  return BACKENDS.filter((b) => b.language === language);
}

export function allBackends(): readonly Backend[] {
  return BACKENDS;
}
