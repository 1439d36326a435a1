/** The benchmark kernels: kernels/<language>/*.(py|js), each leaving its checked value in `result`. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Language } from './peers/common.js';

export interface Kernel {
  name: string;
  source: string;
  /** The first comment line: what the kernel exercises. */
  summary: string;
}

const DIR = fileURLToPath(new URL('../kernels/', import.meta.url));

/** Python kernels in a fixed order (the issue's loop first). */
const ORDER = ['sum_squares', 'nbody', 'fannkuch', 'json_roundtrip', 'regex_scan', 'richards', 'loop', 'objects_json'];

export function loadKernels(language: Language): Kernel[] {
  const ext = language === 'python' ? '.py' : '.js';
  const dir = `${DIR}${language}/`;
  return readdirSync(dir)
    .filter((file) => file.endsWith(ext))
    .map((file) => {
      const source = readFileSync(dir + file, 'utf8');
      const first = source.split('\n')[0] ?? '';
      return { name: file.slice(0, -ext.length), source, summary: first.replace(/^(#|\/\/)\s*/, '') };
    })
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

function rank(name: string): number {
  const index = ORDER.indexOf(name);
  return index < 0 ? ORDER.length : index;
}
