// Copies the contract from the repository's top-level wit/ into this package and generates
// the host-side TypeScript types for world `sandbox` from it (so the types can never drift).
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const sourceWit = fileURLToPath(new URL('../../../wit', import.meta.url));

// jco's WIT parser runs as a WASI component; it needs to see the real filesystem.
_setPreopens({ '/': '/' });
const { generateHostTypes } = await import('@bytecodealliance/jco-transpile');

await rm(`${packageDir}/wit`, { recursive: true, force: true });
await cp(sourceWit, `${packageDir}/wit`, { recursive: true });

const files = await generateHostTypes(sourceWit, { worldName: 'sandbox', instantiation: { tag: 'async' } });
await mkdir(`${packageDir}/generated`, { recursive: true });
for (const [name, bytes] of Object.entries(files)) {
  await writeFile(`${packageDir}/generated/${name}`, bytes);
}
