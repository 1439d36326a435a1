/**
 * `pnpm --filter @component-sandbox/conformance conformance`: runs the fixed list of CPython test
 * modules in the sandbox and natively, prints the comparison, and optionally writes it out.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runConformance } from './conformance.js';
import { MODULES } from './modules.js';
import { renderMarkdown, updateReadme } from './report.js';

const HELP = `Usage: pnpm --filter @component-sandbox/conformance conformance [options]

Runs CPython's own tests for these modules inside the Python sandbox and under a native CPython
of the same version, and compares them test by test:
  ${MODULES.map((m) => m.name.replace(/^test\./, '')).join(', ')}

  --only <names>     run only these modules (comma-separated, e.g. test_zlib,test_json)
  --timeout <s>      time limit of one module in each environment (default 600)
  --json <path>      write the full report (every lost test id, every skip reason) as JSON
  --readme           refresh the table in guest/python/README.md
  -h, --help         this text`;

function usageError(message: string): never {
  console.error(`conformance: ${message}\n\n${HELP}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    // `pnpm conformance -- --readme` hands the script the `--` too.
    args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
    options: {
      only: { type: 'string' },
      timeout: { type: 'string', default: '600' },
      json: { type: 'string' },
      readme: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  usageError((error as Error).message);
}
const { values } = parsed;
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const timeoutSeconds = Number(values.timeout);
if (!(timeoutSeconds > 0)) usageError(`--timeout must be a positive number of seconds, got ${values.timeout}`);
const modules = values.only
  ?.split(',')
  .map((name) => name.trim())
  .map((name) => (name.startsWith('test.') ? name : `test.${name}`));
if (values.readme && modules) usageError('--readme needs a run of every module (no --only)');
const report = await runConformance({
  ...(modules ? { modules } : {}),
  moduleTimeoutMs: timeoutSeconds * 1000,
  log: (line) => process.stderr.write(`${line}\n`),
});
const markdown = renderMarkdown(report);
console.log(markdown);
console.log(`(${report.seconds.toFixed(0)} s in all; sandbox had a writable /tmp: ${report.writableTmp})`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
if (values.readme) {
  await updateReadme(fileURLToPath(new URL('../../../guest/python/README.md', import.meta.url)), markdown);
}
