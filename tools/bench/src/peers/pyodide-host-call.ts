/** Pyodide in the `host-call` workload (see host-call.ts). */
import { loadPyodide } from 'pyodide';
import type { SamplesResult } from './common.js';
import { loop, timedLoops, type HostCallParams } from './host-call.js';

/** Pyodide: a JavaScript function as a Python global, called from a Python loop. */
export async function hostCall(params: HostCallParams): Promise<SamplesResult> {
  const py = await loadPyodide({ stdout: () => undefined, stderr: () => undefined });
  py.globals.set('inc', (x: number) => x + 1);
  const code = loop('python', params.calls);
  const samples = await timedLoops(
    params,
    async () => py.runPython(code),
    async () => py.runPython('total') as unknown,
  );
  return { samples };
}
