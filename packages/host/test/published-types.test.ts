/**
 * The published declarations must compile in a plain Node project: no DOM lib (so no
 * `WebAssembly` namespace), `types: ["node"]`, and `skipLibCheck: false`, which checks every
 * declaration file the import reaches, ours and our dependencies'.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const CONSUMER = `
import {
  createSandbox,
  runProgram,
  InvalidOptionsError,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  type EvalResult,
  type ResolvedLimits,
  type ProgramResult,
} from '@component-sandbox/host';

export async function demo(guest: string): Promise<number> {
  const sandbox = await createSandbox({ guest, timeoutMs: DEFAULT_TIMEOUT_MS });
  try {
    const limits: ResolvedLimits = sandbox.limits;
    const result: EvalResult<number> = await sandbox.eval<number>('2 + 2');
    const report: ProgramResult = await runProgram(sandbox, { statements: [], expression: '1' });
    return result.value + limits.memoryLimitPages + report.durationMs + MAX_TIMEOUT_MS;
  } catch (error) {
    if (error instanceof InvalidOptionsError) return -1;
    throw error;
  } finally {
    await sandbox.close();
  }
}
`;

describe('the published declarations', () => {
  let project: string;
  beforeAll(async () => {
    // Inside the package, so that the import resolves to this package's own exports.
    project = await mkdtemp(join(packageDir, 'node_modules', '.types-consumer-'));
    await writeFile(join(project, 'consumer.ts'), CONSUMER);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
  });
  afterAll(() => rm(project, { recursive: true, force: true }));

  it('compile without the DOM lib and with skipLibCheck off', () => {
    const result = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
