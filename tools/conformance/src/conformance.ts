/** One conformance run: fetch the tests, build the guest, run every module both ways, compare. */
import { readPythonBase } from '@component-sandbox/python-base';
import { compareModule, totals, type ModuleComparison, type Totals } from './compare.js';
import { MODULES, NOT_RUN_IN_SANDBOX } from './modules.js';
import {
  ensureConformanceGuest,
  findNativePython,
  runModuleInSandbox,
  runModuleNatively,
  type ModuleRun,
} from './runs.js';
import { ensureTestTree } from './sources.js';

export interface ConformanceOptions {
  /** Module names to run (default: all of MODULES). */
  modules?: readonly string[];
  /** Time limit of one module, in each environment. */
  moduleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ConformanceReport {
  python: string;
  debianSource: string;
  comparisons: ModuleComparison[];
  totals: Totals;
  /** Wall time of the whole run, fetching and building included. */
  seconds: number;
  writableTmp: boolean;
}

export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const timeoutMs = options.moduleTimeoutMs ?? 600_000;
  const selected = options.modules ?? MODULES.map((m) => m.name);
  for (const name of selected) {
    if (!MODULES.some((m) => m.name === name)) throw new Error(`unknown module ${name}: not in the fixed list`);
  }
  const base = readPythonBase();
  const minor = base.python.split('.').slice(0, 2).join('.');
  const native = findNativePython(minor);
  if (!native) {
    throw new Error(
      `no native python${minor} in the python-wasi cache to compare with; ` +
        'it is built with the toolchain: pnpm --filter @component-sandbox/python-wasi build:toolchain',
    );
  }
  const treeDir = await ensureTestTree(base.debianSource, log);
  const guestDir = await ensureConformanceGuest(treeDir, log);
  const comparisons: ModuleComparison[] = [];
  let writableTmp = true;
  for (const module of selected) {
    const nativeRun = await runModuleNatively(native, treeDir, module, timeoutMs);
    const sandboxRun = await runModuleInSandbox(module, { guestDir, timeoutMs, log });
    markNotRun(nativeRun, sandboxRun);
    writableTmp &&= sandboxRun.writableTmp;
    const comparison = compareModule(module, nativeRun, sandboxRun);
    log(
      `conformance: ${module}: native ${comparison.native.passed}/${comparison.native.run} passed, ` +
        `sandbox ${comparison.sandbox.passed}/${comparison.sandbox.run} (${comparison.seconds.sandbox.toFixed(1)} s)`,
    );
    comparisons.push(comparison);
  }
  return {
    python: base.python,
    debianSource: base.debianSource,
    comparisons,
    totals: totals(comparisons),
    seconds: (performance.now() - started) / 1000,
    writableTmp,
  };
}

/** The tests left out in the sandbox (NOT_RUN_IN_SANDBOX) are skips there, saying why. */
function markNotRun(nativeRun: ModuleRun, sandboxRun: ModuleRun): void {
  for (const id of Object.keys(nativeRun.outcomes)) {
    if (sandboxRun.outcomes[id]) continue;
    const prefix = Object.keys(NOT_RUN_IN_SANDBOX).find((p) => id.startsWith(`${p}.`));
    if (prefix) sandboxRun.outcomes[id] = { outcome: 'skipped', detail: `not run: ${NOT_RUN_IN_SANDBOX[prefix]}` };
  }
}
