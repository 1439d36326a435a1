/** Entry of a measuring child process: one `{ peer, task, params }` in, one result out, exit. */
import type { PeerName } from './types.js';

type Task = (params: never) => Promise<unknown>;

const loaders: Record<PeerName, () => Promise<{ tasks: Record<string, Task> }>> = {
  ours: () => import('./peers/ours.js'),
  pyodide: () => import('./peers/pyodide.js'),
  monty: () => import('./peers/monty.js'),
  native: () => import('./peers/native.js'),
  quickjs: () => import('./peers/quickjs.js'),
  'isolated-vm': () => import('./peers/isolated-vm.js'),
  node: () => import('./peers/node.js'),
};

function reply(message: unknown): void {
  process.send!(message, undefined, {}, () => process.exit(0));
}

process.once('message', async ({ peer, task, params }: { peer: PeerName; task: string; params: never }) => {
  // The task's own handles may all be unref'd (the host does not let idle sandbox workers keep a
  // process alive, and a pool's refill is such a wait): hold the process open until the reply.
  setInterval(() => undefined, 60_000);
  try {
    const { tasks } = await loaders[peer]();
    if (task === 'kernels') {
      // A batch: { kernels: [{ name, source }], ...shared } -> { [name]: result of `kernel` }.
      const { kernels, ...shared } = params as { kernels: { name: string; source: string }[] };
      const results: Record<string, unknown> = {};
      for (const kernel of kernels) {
        if (!tasks['kernel']) throw new Error(`peer ${peer} has no task kernel`);
        results[kernel.name] = await tasks['kernel']({ ...shared, ...kernel } as never);
      }
      reply({ ok: true, result: results });
      return;
    }
    const run = tasks[task];
    if (!run) throw new Error(`peer ${peer} has no task ${task}`);
    reply({ ok: true, result: await run(params) });
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
