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
import { runSnippets, reportJson, summaryLine, EXIT_CODES, type RunReport } from '@component-sandbox/cli';
import type { ResolvedLimits } from '@component-sandbox/host';

export async function demo(): Promise<string> {
  const report: RunReport = await runSnippets({ language: 'python', statements: [], expression: '2 + 2' });
  const limits: ResolvedLimits | undefined = undefined;
  return [summaryLine(report), reportJson(report), EXIT_CODES[report.status], limits].join('\\n');
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
