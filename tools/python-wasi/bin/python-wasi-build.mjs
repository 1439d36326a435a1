#!/usr/bin/env node
// Builds (or finds in the cache) CPython for wasm32-wasi and prints the toolchain directory.
// Progress goes to stderr, the directory alone to stdout: `dir=$(python-wasi-build)`.

import { ensurePythonWasi } from '../src/index.mjs';

try {
  const toolchain = await ensurePythonWasi();
  process.stdout.write(`${toolchain.dir}\n`);
} catch (error) {
  process.stderr.write(`python-wasi-build: ${error.message}\n`);
  process.exitCode = 1;
}
