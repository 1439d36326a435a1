/**
 * JavaScript guest speed: the same script (kernels/javascript/*.js) in our JavaScript guest
 * (`exec`), QuickJS (quickjs-emscripten `evalCode`), isolated-vm (`evalSync`) and Node itself
 * (`vm.runInThisContext`). No target: this shows where the SpiderMonkey-in-wasm guest stands.
 */
import type { KernelResult } from '../peers/common.js';
import { loadKernels } from '../kernels.js';
import { attempt, child, type Context } from '../rows.js';
import type { PeerName, Row, WorkloadResult } from '../types.js';
import { geomeanRow, kernelMeasurement } from './guest-speed.js';

export const id = 'js-speed';

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const { peers } = ctx;
  const kernels = loadKernels('javascript');
  const reps = { reps: ctx.quick ? 1 : 5, warmup: 1 };
  const batch = (peer: PeerName) =>
    attempt(ctx, peer, () =>
      child<Record<string, KernelResult>>(
        ctx,
        peer,
        'kernels',
        { language: 'javascript', kernels, ...reps },
        { timeoutMs: 600_000 },
      ),
    );
  ctx.log(`js speed: ${kernels.length} JavaScript kernels in Node, ours, QuickJS, isolated-vm`);
  const node = await batch('node');
  const ours = await batch('ours');
  const quickjs = await batch('quickjs');
  const ivm = await batch('isolated-vm');
  const rows: Row[] = kernels.map((kernel) => {
    const reference = node.ok ? node.value[kernel.name]?.check : undefined;
    return {
      workload: id,
      label: `JavaScript speed: ${kernel.name}`,
      better: 'lower',
      ours: kernelMeasurement(ours, kernel.name, 'ours: sandbox.exec', reference),
      peers: [
        kernelMeasurement(quickjs, kernel.name, `quickjs-emscripten ${peers.quickjs.version}`, reference),
        kernelMeasurement(ivm, kernel.name, `isolated-vm ${peers['isolated-vm'].version}`, reference),
        kernelMeasurement(node, kernel.name, `Node ${peers.node.version} vm.runInThisContext`, undefined),
      ],
      targets: [],
    };
  });
  return {
    id,
    title: 'JavaScript guest speed',
    method:
      `Median of ${reps.reps} runs after ${reps.warmup} warm-up run, one process per engine, timed from the caller. ` +
      "Each engine's `String(result)` is compared with Node's.",
    rows: [...rows, geomeanRow(id, 'all kernels (geometric mean)', rows)],
    notes: kernels.map((k) => `${k.name}: ${k.summary}`),
  };
}
