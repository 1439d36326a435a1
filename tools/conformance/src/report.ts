/** The counts table (Markdown, for guest/python/README.md and the console) and the README update. */
import { readFileSync, writeFileSync } from 'node:fs';
import * as prettier from 'prettier';
import type { Counts, ModuleComparison, Reason } from './compare.js';
import type { ConformanceReport } from './conformance.js';

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const counts = (c: Counts) => `${c.run} / ${c.passed} / ${c.failed} / ${c.skipped}`;

function lostText(c: ModuleComparison): string {
  const parts = (Object.entries(c.lost) as [Reason, string[]][])
    .sort((a, b) => b[1].length - a[1].length)
    .map(([reason, ids]) => `${ids.length} ${reason}`);
  return parts.length ? parts.join(', ') : '-';
}

export function renderMarkdown(report: ConformanceReport): string {
  const { totals } = report;
  const lines = [
    `CPython ${report.python} (Debian ${report.debianSource}): each module runs inside the sandbox and under a native`,
    `CPython ${report.python} built from the same source. Counts are run / passed / failed / skipped; the last column`,
    'lists the natively passing tests that do not pass in the sandbox, by reason.',
    '',
    '| module | native | sandbox | natively passing, not passing in the sandbox |',
    '| --- | --- | --- | --- |',
    ...report.comparisons.map(
      (c) => `| ${c.module.replace(/^test\./, '')} | ${counts(c.native)} | ${counts(c.sandbox)} | ${lostText(c)} |`,
    ),
    '',
    `Of ${totals.nativePassed} natively passing tests, ${totals.bothPassed} pass in the sandbox (${percent(totals.ratio)}); ` +
      `${percent(totals.ratioWithoutTmp)} of those that do not need a writable /tmp, ` +
      `${percent(totals.ratioOfRunnable)} of those that need neither /tmp nor what the sandbox lacks by design ` +
      '(the platform limits the last column names: threads, processes, sockets, file modes, OpenSSL, ...).',
  ];
  const skipLines = report.comparisons.flatMap((c) =>
    Object.entries(c.sandboxSkips)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => `${c.module.replace(/^test\./, '')}: ${n} × ${reason || '(no reason given)'}`),
  );
  return `${lines.join('\n')}\n\n<details><summary>Every skip in the sandbox, with its reason</summary>\n\n${skipLines
    .map((line) => `- ${line.replace(/\|/g, '\\|')}`)
    .join('\n')}\n\n</details>\n`;
}

const START = '<!-- conformance:start -->';
const END = '<!-- conformance:end -->';

/**
 * Replaces the text between the conformance markers of a README, formatted as the repository's
 * Prettier settings want it (the README is lint-checked).
 */
export async function updateReadme(path: string, markdown: string): Promise<void> {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${path} has no ${START} ... ${END} section`);
  const updated = `${text.slice(0, start + START.length)}\n${markdown}${text.slice(end)}`;
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(updated, { ...options, filepath: path }));
}
