import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/component-sandbox.js', import.meta.url));

/** Runs the CLI as users do, in its own process, with `input` on its standard input. */
export function runWithInput(input: string, ...args: string[]) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    status: result.status,
    elapsedMs: performance.now() - started,
  };
}

/** Runs the CLI as users do, in its own process. */
export function run(...args: string[]) {
  return runWithInput('', ...args);
}
