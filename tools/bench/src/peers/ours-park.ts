/** Our host's snapshots and parking, through the public API (createSandbox, snapshot, park). */
import { createSandbox, restoreSandbox, type Sandbox } from '@component-sandbox/host';
import { artifactDir as pythonArtifact } from '@component-sandbox/guest-python';
import {
  SESSION_CHECK,
  SESSION_STATE,
  elapsedMs,
  now,
  parkedRounds,
  parkedResult,
  timeSnapshots,
  type ParkedParams,
  type ParkedResult,
  type RepsParams,
  type SnapshotResult,
} from './common.js';

/** Sandboxes here park only when told to: the figures must not depend on a timer. */
const options = { guest: pythonArtifact, parkIdleMs: Infinity };

async function check(sandbox: Sandbox): Promise<void> {
  const { value } = await sandbox.eval(SESSION_CHECK.expression);
  if (value !== SESSION_CHECK.value) throw new Error(`a restored session answered ${String(value)}`);
}

/** `sandbox.snapshot()`, then `restoreSandbox()` of its bytes until the restored one answers. */
async function snapshot(params: RepsParams): Promise<SnapshotResult> {
  const source = await createSandbox(options);
  await source.exec(SESSION_STATE);
  const result = await timeSnapshots(
    params,
    () => source.snapshot(),
    async (taken) => {
      const restored = await restoreSandbox(taken, options);
      await check(restored);
      await restored.close();
    },
    'snapshot() + restoreSandbox() + the first eval of the restored sandbox',
  );
  await source.close();
  return result;
}

/**
 * Sessions holding SESSION_STATE, each parked once made (parkedRounds: RSS per parked session);
 * then one call on each parked session, timed (the restore included), each parked again after.
 */
async function parked(params: ParkedParams): Promise<ParkedResult> {
  const rounds = await parkedRounds(params.count, async () => {
    const session = await createSandbox(options);
    await session.exec(SESSION_STATE);
    if (!(await session.park())) throw new Error('a session did not park');
    return session;
  });
  const restoreMs: number[] = [];
  for (const session of rounds.sessions) {
    const start = now();
    await check(session);
    restoreMs.push(elapsedMs(start));
    await session.park();
  }
  await Promise.all(rounds.sessions.map((s) => s.close()));
  return parkedResult(
    rounds,
    params.count,
    restoreMs,
    `RSS growth over a second round of ${params.count} parked sessions, per session`,
  );
}

export const parkTasks = { snapshot, parked };
