import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export * from './manifest.js';
export * from './names.js';
/** The exports every guest component provides, as the host sees them after transpilation. */
export type { Sandbox as SandboxExports } from '../generated/sandbox.js';

/** Directory holding the WIT package (worlds `sandbox` and `sandbox-extended`), shipped with this package. */
export const witDir: string = fileURLToPath(new URL('../wit', import.meta.url));

/** The version in `package component-sandbox:sandbox@x.y.z;`, read from the shipped WIT. */
export const CONTRACT_VERSION: string = (() => {
  const source = readFileSync(fileURLToPath(new URL('../wit/sandbox.wit', import.meta.url)), 'utf8');
  const match = /^package\s+[\w-]+:[\w-]+@([\w.+-]+)\s*;/m.exec(source);
  if (!match?.[1]) throw new Error('wit/sandbox.wit has no versioned package declaration');
  return match[1];
})();
export * from './wasm-memory.js';
export * from './wasm-binary.js';
