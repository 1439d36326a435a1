/**
 * jco's tools and componentize-js, loaded only after every copy of preview2-shim they use has
 * been granted the host filesystem (see shim-preopens.ts).
 */
import { grantHostFilesystem } from './shim-preopens.js';

export async function jcoTranspile() {
  await grantHostFilesystem();
  return import('@bytecodealliance/jco-transpile');
}

export async function jcoWasmTools() {
  await grantHostFilesystem();
  return import('@bytecodealliance/jco-transpile/wasm-tools');
}

export async function componentizeJs() {
  await grantHostFilesystem();
  return import('@bytecodealliance/componentize-js');
}
