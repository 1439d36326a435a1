/** Human-friendly durations and sizes, as adapters read them from flags and environment variables. */
import ms from 'ms';

/** `5s`, `500ms`, `2m`, or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`"${text}" is not a duration (examples: 5s, 500ms, 2m)`);
  }
  return Math.round(value);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/** `20MiB`, `512KiB`, `1GiB`, `64MB`, or a bare number of bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new Error(`"${text}" is not a size (examples: 20MiB, 512KiB, 1GiB)`);
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes <= 0) throw new Error(`"${text}" must be more than zero bytes`);
  return bytes;
}

/** A positive integer (counts such as --max-sessions). */
export function parseCount(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) <= 0 || !Number.isSafeInteger(Number(trimmed))) {
    throw new Error(`"${text}" is not a positive whole number`);
  }
  return Number(trimmed);
}

/** Bytes as a short human string: 20 MiB, 512 KiB, 100 B. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} B`;
}

/** Milliseconds as a short human string in the units parseDuration reads: 5s, 500ms, 2m. */
export function formatDuration(milliseconds: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (milliseconds >= size && milliseconds % size === 0) return `${milliseconds / size}${unit}`;
  }
  return `${milliseconds}ms`;
}
