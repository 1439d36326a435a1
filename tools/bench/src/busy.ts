/**
 * A busy machine on demand: one process per core spinning on the CPU while a measurement runs,
 * so that "on a busy machine" figures do not depend on what else the machine happens to do.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

export const BUSY_PROCESSES = availableParallelism();

export async function whileBusy<T>(measure: () => Promise<T>): Promise<T> {
  const spinners = Array.from({ length: BUSY_PROCESSES }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  try {
    return await measure();
  } finally {
    for (const spinner of spinners) spinner.kill('SIGKILL');
  }
}
