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
// The generated `instantiate` signatures name WebAssembly.Module and WebAssembly.Instance, which
// only the DOM lib declares; consumers with `lib: ["ES2022"]`, `types: ["node"]` and
// `skipLibCheck: false` load this file through our index.d.ts. Opaque stand-ins, scoped to this
// module (it has exports), let it compile anywhere; real modules and instances still fit them.
const WASM_STAND_INS =
  '// Opaque stand-ins so that these types compile without the DOM lib (added by scripts/build.mjs).\n' +
  'declare namespace WebAssembly {\n  interface Module {}\n  interface Instance {}\n}\n';
for (const [name, bytes] of Object.entries(files)) {
  const text = Buffer.from(bytes).toString('utf8');
  const patched = name.endsWith('.d.ts') && text.includes('WebAssembly.') ? `${WASM_STAND_INS}${text}` : text;
  await writeFile(`${packageDir}/generated/${name}`, patched);
}
