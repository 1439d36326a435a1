/** The report: console tables, the README's Markdown section, and the JSON file. */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as prettier from 'prettier';
import { formatRatio, formatValue } from './format.js';
import { ratio } from './rows.js';
import type { BenchReport, Measurement, Row, TargetCheck } from './types.js';

function cell(m: Measurement): string {
  if (m.value !== null) return formatValue(m.value, m.unit);
  return m.status;
}

function verdict(targets: TargetCheck[]): string {
  if (targets.length === 0) return '';
  return targets.map((t) => (t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL')).join(' / ');
}

function targetsText(targets: TargetCheck[]): string {
  return targets.map((t) => t.text).join('; ');
}

/** Notes worth showing next to a figure: why it is missing, or what it is. */
function noteOf(m: Measurement): string {
  return m.note ? m.note.replace(/\s+/g, ' ').slice(0, 160) : '';
}

export interface TargetLine {
  row: string;
  target: string;
  measured: string;
  pass: boolean | null;
}

export function targetLines(report: BenchReport): TargetLine[] {
  return report.workloads.flatMap((w) =>
    w.rows.flatMap((row) =>
      row.targets.map((t) => ({ row: row.label, target: t.text, measured: t.measured, pass: t.pass })),
    ),
  );
}

function passText(pass: boolean | null): string {
  return pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL';
}

// ---------------------------------------------------------------- console

function widthsOf(rows: string[][]): number[] {
  return rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
}

function padWith(widths: number[], row: string[]): string {
  return row
    .map((c, i) => c.padEnd(widths[i]!))
    .join('  ')
    .trimEnd();
}

function pad(rows: string[][]): string {
  const widths = widthsOf(rows);
  return rows.map((r) => padWith(widths, r)).join('\n');
}

function subjectLines(row: Row): string[][] {
  const oursNote = row.ours.value === null && row.ours.note ? ` (${noteOf(row.ours).slice(0, 100)})` : '';
  const lines: string[][] = [[`  ${row.ours.subject}`, cell(row.ours) + oursNote, '']];
  for (const peer of row.peers) {
    const note = peer.value === null ? ` (${noteOf(peer).slice(0, 60)})` : '';
    lines.push([`  ${peer.subject}`, cell(peer) + note, `ours/peer ${formatRatio(ratio(row.ours, peer))}`]);
  }
  return lines;
}

export function renderConsole(report: BenchReport): string {
  const out: string[] = [];
  for (const w of report.workloads) {
    out.push('', `== ${w.title} (${w.seconds.toFixed(0)} s)`);
    if (w.skipped) {
      out.push(w.skipped);
      continue;
    }
    const blocks = w.rows.map((row) => ({ row, lines: subjectLines(row) }));
    const widths = widthsOf(blocks.flatMap((b) => b.lines));
    for (const { row, lines } of blocks) {
      const target = row.targets.length > 0 ? `   [target ${targetsText(row.targets)}: ${verdict(row.targets)}]` : '';
      out.push(`${row.label}${target}`, ...lines.map((line) => padWith(widths, line)));
    }
    for (const note of w.notes) out.push(`note: ${note}`);
  }
  const targets = targetLines(report);
  if (targets.length > 0) {
    out.push('', '== Targets');
    out.push(
      pad([['', 'target', 'measured', ''], ...targets.map((t) => [t.row, t.target, t.measured, passText(t.pass)])]),
    );
  }
  const unavailable = Object.values(report.peers).filter((p) => !p.available);
  for (const p of unavailable) out.push(`peer not available: ${p.name} ${p.version}: ${p.note ?? ''}`);
  return out.join('\n');
}

// ---------------------------------------------------------------- Markdown

function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(
    `Last run: \`${report.command}\` (${report.mode} mode, ${(report.seconds / 60).toFixed(1)} min) on ${m.date.slice(0, 10)}.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}, Node ${m.node}; ` +
      `load average at the start ${m.loadAverage.join(' / ')}.`,
    '',
    '| peer | version | status |',
    '| --- | --- | --- |',
    ...Object.values(report.peers).map(
      (p) => `| ${p.name} | ${p.version} | ${p.available ? 'ok' : 'not available'}${p.note ? `: ${md(p.note)}` : ''} |`,
    ),
  );
  const targets = targetLines(report);
  if (targets.length > 0) {
    out.push('', '#### Targets', '', '| row | target | measured | result |', '| --- | --- | --- | --- |');
    for (const t of targets)
      out.push(`| ${md(t.row)} | ${md(t.target)} | ${md(t.measured)} | **${passText(t.pass)}** |`);
  }
  for (const w of report.workloads) {
    out.push('', `#### ${w.title}`, '');
    if (w.skipped) {
      out.push(w.skipped);
      continue;
    }
    out.push(
      w.method,
      '',
      '| row | subject | figure | ours ÷ peer | target | result |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const row of w.rows) {
      const oursCell = row.ours.value === null ? `${row.ours.status}: ${noteOf(row.ours)}` : `**${cell(row.ours)}**`;
      out.push(
        `| **${md(row.label)}** | ${md(row.ours.subject)} | ${md(oursCell)} |  | ${md(targetsText(row.targets))} | ${verdict(row.targets)} |`,
      );
      for (const peer of row.peers) {
        const note = noteOf(peer);
        const value =
          peer.value === null
            ? `${peer.status}${note ? `: ${note}` : ''}`
            : `${cell(peer)}${note && peer.status !== 'ok' ? ` (${note})` : ''}`;
        out.push(`|  | ${md(peer.subject)} | ${md(value)} | ${formatRatio(ratio(row.ours, peer))} |  |  |`);
      }
    }
    const notes = [...w.notes, ...figureNotes(w.rows)];
    if (notes.length > 0) out.push('', ...notes.map((n) => `- ${md(n)}`));
  }
  return out.join('\n');
}

/** Notes carried by figures that have a value (e.g. how a peer's memory was measured), once each. */
function figureNotes(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) {
    for (const m of [row.ours, ...row.peers]) {
      if (m.value !== null && m.note && m.status === 'ok') seen.add(`${m.subject}: ${m.note}`);
    }
  }
  return [...seen];
}

// ---------------------------------------------------------------- files

export function writeJson(path: string, report: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** Replaces the text between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`. */
export function replaceSection(document: string, name: string, body: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  const block = `${start}\n<!-- Written by \`pnpm bench\`; edits here are overwritten. -->\n\n${body.trim()}\n\n${end}`;
  if (from < 0 || to < from) return `${document.trimEnd()}\n\n${block}\n`;
  return document.slice(0, from) + block + document.slice(to + end.length);
}

/** Rewrites the section, formatted with the repository's Prettier settings (its lint checks them). */
export async function updateReadme(path: string, name: string, body: string): Promise<void> {
  const text = replaceSection(readFileSync(path, 'utf8'), name, body);
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(text, { ...options, filepath: path }));
}
