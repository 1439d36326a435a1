/**
 * jco's WIT and component tools run as WASI components inside Node; since preview2-shim 0.26
 * they start with no filesystem preopens, so they cannot read the WIT or write anything.
 * Loading them through here grants them the host filesystem first.
 */
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

// The package's `types` condition resolves to its browser typings, which type preopens as
// in-memory file data; the Node build (what runs here) takes host paths.
const setHostPreopens = _setPreopens as unknown as (preopens: Record<string, string>) => void;

let granted = false;

function grantHostFilesystem(): void {
  if (granted) return;
  setHostPreopens({ '/': '/' });
  granted = true;
}

export async function jcoTranspile() {
  grantHostFilesystem();
  return import('@bytecodealliance/jco-transpile');
}

export async function jcoWasmTools() {
  grantHostFilesystem();
  return import('@bytecodealliance/jco-transpile/wasm-tools');
}

export async function componentizeJs() {
  grantHostFilesystem();
  return import('@bytecodealliance/componentize-js');
}
