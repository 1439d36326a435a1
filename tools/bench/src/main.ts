/**
 * `pnpm bench`: finds (and where needed builds) the peers, runs the workloads, prints the tables,
 * writes results/latest.json and refreshes the results section of the README.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine.js';
import { renderConsole, renderMarkdown, targetLines, updateReadme, writeJson } from './report.js';
import type { Context } from './rows.js';
import { BENCH_DIR, setupPeers } from './setup.js';
import type { BenchReport, WorkloadResult } from './types.js';
import * as ready from './workloads/ready.js';
import * as call from './workloads/call.js';
import * as guestSpeed from './workloads/guest-speed.js';
import * as jsSpeed from './workloads/js-speed.js';
import * as memory from './workloads/memory.js';
import * as limits from './workloads/limits.js';
import * as http from './workloads/http.js';
import * as sessions from './workloads/sessions.js';
import * as park from './workloads/park.js';
import * as hostCall from './workloads/host-call.js';

type Workload = { id: string; run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> };

const WORKLOADS: Workload[] = [ready, call, guestSpeed, jsSpeed, memory, park, limits, http, hostCall];

const HELP = `Usage: pnpm bench [options]

Runs component-sandbox and its peers (Pyodide, Monty, python3, quickjs-emscripten, isolated-vm,
Node) on the same workloads and prints medians and ratios.

  --quick             fewer repetitions and instances (about 2 minutes)
  --only <ids>        run only these workloads (comma-separated, or repeat the flag):
                      ${WORKLOADS.map((w) => w.id).join(', ')}
  --sessions <N>      only the many-sessions run: N live Python sessions, idle ones
                      parked (e.g. 10000)
  --json <path>       where to write the JSON (default results/latest.json,
                      results/sessions.json with --sessions)
  --readme            refresh README.md even for a --quick or --only run
  --no-readme         do not touch README.md
  --skip-install      do not try to build isolated-vm when it does not load
  --verbose           show the measuring processes' output
  -h, --help          this text

A full run (no --quick, no --only) rewrites the README's results section; --sessions rewrites
its sessions section.`;

function parse() {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      sessions: { type: 'string' },
      json: { type: 'string' },
      readme: { type: 'boolean' },
      'no-readme': { type: 'boolean', default: false },
      'skip-install': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return values;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parse>;
  try {
    options = parse();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const only = (options.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown workload ${unknown.join(', ')}; choose from ${WORKLOADS.map((w) => w.id).join(', ')}\n`,
    );
    return 2;
  }
  const sessionCount = options.sessions === undefined ? undefined : Number(options.sessions);
  if (sessionCount !== undefined && (!Number.isSafeInteger(sessionCount) || sessionCount < 1)) {
    process.stderr.write(`--sessions needs a positive integer, got ${options.sessions}\n`);
    return 2;
  }

  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const machine = machineInfo();
  log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, load ${machine.loadAverage.join(' ')}`,
  );
  if (machine.loadAverage[0]! > machine.cores * 0.5) {
    log(`warning: the machine is busy (load ${machine.loadAverage[0]}); figures will be noisy`);
  }
  const peers = setupPeers(log, !options['skip-install']);
  for (const [key, peer] of Object.entries(peers)) {
    if (key === 'pythonPath') continue;
    const p = peer as (typeof peers)['ours'];
    log(`peer ${p.name} ${p.version}: ${p.available ? 'ok' : 'NOT AVAILABLE'}${p.note ? ` (${p.note})` : ''}`);
  }
  if (!peers.ours.available) {
    log(`cannot measure our host: ${peers.ours.note}`);
    return 1;
  }
  const ctx: Context = { quick: options.quick, verbose: options.verbose, peers, log };

  const mode: BenchReport['mode'] = sessionCount !== undefined ? 'sessions' : options.quick ? 'quick' : 'full';
  const selected: Workload[] =
    sessionCount !== undefined
      ? [{ id: sessions.id, run: (c) => sessions.run(c, sessionCount) }]
      : WORKLOADS.filter((w) => only.length === 0 || only.includes(w.id));
  const workloads: WorkloadResult[] = [];
  for (const workload of selected) {
    const t0 = Date.now();
    let result: Omit<WorkloadResult, 'seconds'>;
    try {
      result = await workload.run(ctx);
    } catch (error) {
      log(`${workload.id}: failed: ${(error as Error).stack ?? String(error)}`);
      result = {
        id: workload.id,
        title: workload.id,
        method: '',
        rows: [],
        notes: [],
        skipped: `failed: ${(error as Error).message}`,
      };
    }
    workloads.push({ ...result, seconds: (Date.now() - t0) / 1000 });
    log(`${workload.id}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }

  const { pythonPath: _pythonPath, ...peerInfos } = peers;
  const report: BenchReport = {
    mode,
    machine,
    peers: peerInfos,
    workloads,
    seconds: (Date.now() - started) / 1000,
    command: `pnpm bench${process.argv
      .slice(2)
      .filter((a) => a !== '--')
      .map((a) => ` ${a}`)
      .join('')}`,
  };
  process.stdout.write(`${renderConsole(report)}\n`);

  const jsonPath = options.json ?? join(BENCH_DIR, 'results', mode === 'sessions' ? 'sessions.json' : 'latest.json');
  writeJson(jsonPath, report);
  log(`wrote ${jsonPath}`);
  const refresh =
    !options['no-readme'] && (options.readme || mode === 'sessions' || (mode === 'full' && only.length === 0));
  if (refresh) {
    const readme = join(BENCH_DIR, 'README.md');
    await updateReadme(readme, mode === 'sessions' ? 'sessions' : 'results', renderMarkdown(report));
    log(`refreshed ${readme}`);
  }
  const failed = targetLines(report).filter((t) => t.pass === false).length;
  log(`finished in ${(report.seconds / 60).toFixed(1)} min; ${failed} target(s) not met`);
  return 0;
}

process.exitCode = await main();
