/**
 * Test-by-test comparison of a module's sandbox run with its native run, and why each test that
 * passes natively does not pass in the sandbox. Pure functions: the report and the CI check use
 * them, and the unit tests feed them made-up runs.
 */
import type { ModuleRun, TestOutcome } from './runs.js';

export interface Counts {
  /** Tests with an outcome (passed + failed + skipped). */
  run: number;
  passed: number;
  /** Failures and errors, and in the sandbox the tests a failed fixture kept from running. */
  failed: number;
  skipped: number;
}

/**
 * Why a natively passing test does not pass in the sandbox, recognised from its skip reason or
 * error text. First match wins; the order puts the specific before the general.
 */
export const REASONS = [
  {
    reason: 'needs /tmp',
    // tempfile finds no writable directory; TESTFN files in the working directory; SQLite
    // database files; EROFS (69 in WASI) from the read-only tree.
    pattern:
      /No usable temporary directory|@test_\d+_tmp|unable to open database file|Read-only file system|Errno 69\]/,
  },
  { reason: 'threads', pattern: /threads are not available|threading support|can't start new thread|thread/i },
  // script_helper runs a child interpreter; multiprocessing needs processes too.
  { reason: 'subprocess', pattern: /subprocess|\bfork\b|sys\.executable|script_helper|multiprocessing/ },
  { reason: 'sockets', pattern: /socket|network/i },
  { reason: 'time.tzset', pattern: /tzset/ },
  // WASI has no file modes. (Symlinks in /tmp and SQLite's locking between two connections to
  // one file work: a test lost to either is a bug, left unexplained on purpose.)
  { reason: 'file modes (WASI has none)', pattern: /os\.chmod/ },
  // The guest's own trees are read-only by design, the tests' directory (/app/test) with them:
  // PyZipFile.writepy compiles the test modules beside themselves, which needs it writable.
  { reason: 'read-only guest trees', pattern: /requires write access to the installed location/ },
  { reason: 'system time-zone files', pattern: /\/usr\/share\/zoneinfo/ },
  { reason: '64-bit only', pattern: /64.?bit platform|32-bit/ },
  // What the guest's CPython does not build in: OpenSSL (hashlib's _hashlib: pbkdf2_hmac's C
  // version, scrypt, its hash types).
  { reason: 'not built in (OpenSSL)', pattern: /_hashlib|OpenSSL/ },
  { reason: 'skipped by CPython on WASI', pattern: /Emscripten|WASI/ },
  { reason: 'did not finish', pattern: /did not finish in the sandbox/ },
] as const;

export type Reason = (typeof REASONS)[number]['reason'] | 'unexplained';

/** Reasons that name a limit of the platform (no threads, no processes, ...), not a bug. */
export const PLATFORM_REASONS: ReadonlySet<Reason> = new Set<Reason>([
  'threads',
  'subprocess',
  'sockets',
  'time.tzset',
  'file modes (WASI has none)',
  'read-only guest trees',
  'system time-zone files',
  '64-bit only',
  'not built in (OpenSSL)',
  'skipped by CPython on WASI',
]);

export interface ModuleComparison {
  module: string;
  native: Counts;
  sandbox: Counts;
  /** Natively passing tests that pass in the sandbox too. */
  bothPassed: number;
  /** Natively passing tests that do not pass in the sandbox, by reason. */
  lost: Partial<Record<Reason, string[]>>;
  /** What the sandbox said for each unexplained one (skip reason or end of the traceback). */
  unexplained: Record<string, string>;
  /** Every skip in the sandbox, by its reason text. */
  sandboxSkips: Record<string, number>;
  seconds: { native: number; sandbox: number };
  incident?: string;
}

export function classify(detail: string | undefined): Reason {
  if (!detail) return 'unexplained';
  return REASONS.find(({ pattern }) => pattern.test(detail))?.reason ?? 'unexplained';
}

/**
 * unittest reports a failed fixture or import under a pseudo id (`setUpClass (test.m.C)`,
 * `setUpModule (test.m)`, `unittest.loader._FailedTest.m`; the runner's own `import (test.m)`)
 * and never runs the tests below it.
 * Returns the id prefix such an entry covers, or undefined for an ordinary test id.
 */
export function fixtureScope(id: string): string | undefined {
  const fixture = /^(?:setUpClass|setUpModule|tearDownClass|tearDownModule|import) \((.+)\)$/.exec(id);
  if (fixture) return fixture[1];
  const failedImport = /^unittest\.loader\._FailedTest\.(.+)$/.exec(id);
  return failedImport ? failedImport[1] : undefined;
}

function isTest(id: string): boolean {
  return fixtureScope(id) === undefined;
}

function count(outcomes: Record<string, TestOutcome>): Counts {
  const counts: Counts = { run: 0, passed: 0, failed: 0, skipped: 0 };
  for (const [id, { outcome }] of Object.entries(outcomes)) {
    if (!isTest(id)) continue;
    counts.run += 1;
    if (outcome === 'passed') counts.passed += 1;
    else if (outcome === 'skipped') counts.skipped += 1;
    else counts.failed += 1;
  }
  return counts;
}

/** Whether a failed fixture or import reported under `scope` kept test `id` from running. */
function covers(scope: string, id: string): boolean {
  if (id.startsWith(`${scope}.`)) return true;
  // A failed import names only the last component: `_FailedTest.test_tempfile`.
  return !scope.includes('.') && id.split('.').includes(scope);
}

/** Sandbox outcome of `id`: its own, or the failed fixture that kept it from running. */
function sandboxOutcome(id: string, sandbox: Record<string, TestOutcome>): TestOutcome {
  const own = sandbox[id];
  if (own) return own;
  let best: { scope: string; outcome: TestOutcome } | undefined;
  for (const [entry, outcome] of Object.entries(sandbox)) {
    const scope = fixtureScope(entry);
    if (scope !== undefined && covers(scope, id) && scope.length > (best?.scope.length ?? -1)) {
      best = { scope, outcome };
    }
  }
  if (best) return { outcome: 'error', detail: `not run: ${best.outcome.detail ?? best.scope}` };
  return { outcome: 'error', detail: 'not run in the sandbox (no outcome recorded)' };
}

export function compareModule(module: string, native: ModuleRun, sandbox: ModuleRun): ModuleComparison {
  const lost: Partial<Record<Reason, string[]>> = {};
  const unexplained: Record<string, string> = {};
  let bothPassed = 0;
  const sandboxCounts = count(sandbox.outcomes);
  for (const [id, { outcome }] of Object.entries(native.outcomes)) {
    if (!isTest(id) || outcome !== 'passed') continue;
    const there = sandboxOutcome(id, sandbox.outcomes);
    if (there.outcome === 'passed') {
      bothPassed += 1;
      continue;
    }
    if (!sandbox.outcomes[id]) {
      // Kept from running by a failed fixture: it counts in the sandbox's run, as a failure.
      sandboxCounts.run += 1;
      sandboxCounts.failed += 1;
    }
    const reason = classify(there.detail);
    (lost[reason] ??= []).push(id);
    if (reason === 'unexplained') unexplained[id] = there.detail ?? '';
  }
  const sandboxSkips: Record<string, number> = {};
  for (const [id, { outcome, detail }] of Object.entries(sandbox.outcomes)) {
    if (isTest(id) && outcome === 'skipped') {
      const reason = (detail ?? '').slice(0, 100);
      sandboxSkips[reason] = (sandboxSkips[reason] ?? 0) + 1;
    }
  }
  return {
    module,
    native: count(native.outcomes),
    sandbox: sandboxCounts,
    bothPassed,
    lost,
    unexplained,
    sandboxSkips,
    seconds: { native: native.seconds, sandbox: sandbox.seconds },
    ...(sandbox.incident ? { incident: sandbox.incident } : {}),
  };
}

export interface Totals {
  nativePassed: number;
  bothPassed: number;
  lostByReason: Partial<Record<Reason, number>>;
  /** bothPassed / nativePassed. */
  ratio: number;
  /** The same, leaving out the tests that need the host's /tmp (not there yet). */
  ratioWithoutTmp: number;
  /** Leaving out every test lost to a named platform limit or to /tmp: what is left is ours. */
  ratioOfRunnable: number;
}

export function totals(comparisons: readonly ModuleComparison[]): Totals {
  let nativePassed = 0;
  let bothPassed = 0;
  const lostByReason: Partial<Record<Reason, number>> = {};
  for (const c of comparisons) {
    nativePassed += c.native.passed;
    bothPassed += c.bothPassed;
    for (const [reason, ids] of Object.entries(c.lost) as [Reason, string[]][]) {
      lostByReason[reason] = (lostByReason[reason] ?? 0) + ids.length;
    }
  }
  const tmp = lostByReason['needs /tmp'] ?? 0;
  let platform = 0;
  for (const reason of PLATFORM_REASONS) platform += lostByReason[reason] ?? 0;
  const ratio = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);
  return {
    nativePassed,
    bothPassed,
    lostByReason,
    ratio: ratio(bothPassed, nativePassed),
    ratioWithoutTmp: ratio(bothPassed, nativePassed - tmp),
    ratioOfRunnable: ratio(bothPassed, nativePassed - tmp - platform),
  };
}
