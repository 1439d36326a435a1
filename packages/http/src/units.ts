/** Durations as people write them (`5s`, `2m`, `500ms`), for help texts, docs and messages. */

const UNITS = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
] as const;

/** The largest unit that divides `ms` exactly, so the text parses back to the same value. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
