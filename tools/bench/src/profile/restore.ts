/**
 * Where the milliseconds of a restore go: a session holding a few globals is snapshotted and
 * restored again and again, each step timed. Not part of `pnpm bench`; run by hand after a build:
 *
 *   pnpm --filter @component-sandbox/bench exec tsx src/profile/restore.ts [rounds]
 *
 * - snapshot: `sandbox.snapshot()`;
 * - restoreSandbox: decoding the bytes and making the sandbox (memory from the host's stock of
 *   fresh memories when it has one);
 * - first call: the executor builds an instance over the restored memory, then runs the call;
 * - next call: the same call again, the instance current.
 */
import { artifactDir } from '@component-sandbox/guest-python';
import { createSandbox, restoreSandbox } from '@component-sandbox/host';
import { SESSION_CHECK, SESSION_STATE } from '../peers/common.js';
import { median, percentile } from '../stats.js';

const rounds = Number(process.argv[2] ?? 40);
const options = { guest: artifactDir, parkIdleMs: Infinity };
const source = await createSandbox(options);
await source.exec(SESSION_STATE);
const steps = {
  snapshot: [] as number[],
  restoreSandbox: [] as number[],
  'first call': [] as number[],
  'next call': [] as number[],
};
const time = async (into: number[], action: () => Promise<unknown>) => {
  const start = performance.now();
  const value = await action();
  into.push(performance.now() - start);
  return value;
};
for (let i = 0; i < rounds; i++) {
  const bytes = (await time(steps.snapshot, () => source.snapshot())) as Uint8Array;
  const restored = (await time(steps.restoreSandbox, () => restoreSandbox(bytes, options))) as Awaited<
    ReturnType<typeof restoreSandbox>
  >;
  await time(steps['first call'], () => restored.eval(SESSION_CHECK.expression));
  await time(steps['next call'], () => restored.eval(SESSION_CHECK.expression));
  await restored.close();
  // Give the host's memory maker time to refill its stock, as between real restores.
  await new Promise((resolve) => setTimeout(resolve, 30));
}
await source.close();
for (const [name, ms] of Object.entries(steps)) {
  console.log(
    `${name.padEnd(16)} p50 ${median(ms).toFixed(2).padStart(7)} ms   p99 ${percentile(ms, 0.99).toFixed(2).padStart(7)} ms`,
  );
}
