/** Ours in the `host-call` workload (see host-call.ts). */
import { createSandbox, type SandboxOptions } from '@component-sandbox/host';
import { artifactDir as pythonArtifact } from '@component-sandbox/guest-python';
import { artifactDir as javascriptArtifact } from '@component-sandbox/guest-javascript';
import type { SamplesResult } from './common.js';
import { TOOLS, loop, timedLoops, type HostCallParams } from './host-call.js';

/** Ours: the public API, a sandbox with the function as a module function or a closure. */
export async function hostCall(params: HostCallParams): Promise<SamplesResult> {
  const functions: Partial<SandboxOptions> =
    params.place === 'module' ? { functionsModule: TOOLS } : { functions: { inc: (x: number) => x + 1 } };
  const sandbox = await createSandbox({
    guest: params.language === 'python' ? pythonArtifact : javascriptArtifact,
    timeoutMs: 60_000,
    maxHostCalls: params.calls,
    ...functions,
  });
  try {
    const code = loop(params.language, params.calls);
    const samples = await timedLoops(
      params,
      () => sandbox.exec(code),
      async () => (await sandbox.eval('total')).value,
    );
    return { samples };
  } finally {
    await sandbox.close();
  }
}
