/**
 * Where the microseconds of an `eval("2 + 2")` round trip go: the same call measured whole and in
 * parts, in one process. Not part of `pnpm bench` (it reaches into the host's built internals);
 * run by hand after a build:
 *
 *   pnpm --filter @component-sandbox/bench exec tsx src/profile/round-trip.ts [calls]
 *
 * - whole: `sandbox.eval('2 + 2')` through the public API (caller -> executor -> guest -> back);
 * - channel: the same executor answering a call for an unknown sandbox at once (the call slot,
 *   both threads' polling and wake-ups, the reply's JSON; no guest);
 * - guest: the guest's `eval` called in this thread, over a shared memory, with the binding the
 *   executors use (what an in-process path would cost);
 * - reply JSON: encoding and decoding one reply with its saved state (globals, handle tables)
 *   through a bigint replacer and reviver (as every reply was), and one without a state, plain
 *   (as a reply is now unless the call changed the state).
 */
import { artifactDir } from '@component-sandbox/guest-python';
import { createSandbox } from '@component-sandbox/host';
import { median, percentile } from '../stats.js';

const host = new URL('../../../../packages/host/dist/', import.meta.url);
const { Executor } = (await import(new URL('engine/executor.js', host).href)) as {
  Executor: {
    start(): Promise<{ call(id: number, kind: number, code: string): unknown; terminate(): Promise<number> }>;
  };
};
const { instantiateGuest } = (await import(new URL('engine/guest-instance.js', host).href)) as {
  instantiateGuest(
    guest: object,
    sandbox: object,
    hop: () => never,
  ): { binding: { eval(code: string): unknown }; saveState(): object };
};

const calls = Number(process.argv[2] ?? 5000);

async function timeEach(action: () => unknown): Promise<{ p50: number; p99: number }> {
  const us: number[] = [];
  for (let i = 0; i < calls + calls / 10; i++) {
    const start = process.hrtime.bigint();
    await action();
    if (i >= calls / 10) us.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return { p50: median(us), p99: percentile(us, 0.99) };
}

const sandbox = await createSandbox({ guest: artifactDir, parkIdleMs: Infinity });
const whole = await timeEach(() => sandbox.eval('2 + 2'));

const executor = await Executor.start();
const channel = await timeEach(() => executor.call(2 ** 30, 1, '2 + 2'));
await executor.terminate();

const core = (
  sandbox as unknown as {
    core: {
      guest: { key: string; modules: unknown; mounts: unknown; virtualRoot: boolean };
      memory: WebAssembly.Memory;
      limits: { outputLimitBytes: number; memoryLimitBytes: number };
      mounts: unknown;
      scratch?: unknown;
      state?: unknown;
    };
  }
).core;
const instance = instantiateGuest(
  {
    type: 'guest',
    guestKey: core.guest.key,
    modules: core.guest.modules,
    mounts: core.guest.mounts,
    virtualRoot: core.guest.virtualRoot,
  },
  {
    type: 'sandbox',
    id: 1,
    guestKey: core.guest.key,
    memory: core.memory,
    outputLimitBytes: core.limits.outputLimitBytes,
    memoryLimitBytes: core.limits.memoryLimitBytes,
    mounts: core.mounts,
    ...(core.scratch ? { scratch: core.scratch } : {}),
    state: core.state,
    version: 0,
    functions: { names: [], version: 0, local: [], maxCalls: 0 },
  },
  () => {
    throw new Error('this profile offers the guest no host functions');
  },
);
const guest = await timeEach(() => instance.binding.eval('2 + 2'));

const reply = {
  outcome: { kind: 'ok', value: '4' },
  stdout: '',
  stderr: '',
  outputTruncated: false,
  durationMs: 0.01,
  memoryBytes: core.memory.buffer.byteLength,
  state: instance.saveState(),
};
const replacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? { $bigint: value.toString() } : value);
const reviver = (_key: string, value: unknown) =>
  value !== null && typeof value === 'object' && '$bigint' in value
    ? BigInt((value as { $bigint: string }).$bigint)
    : value;
const text = JSON.stringify(reply, replacer);
const json = await timeEach(() => JSON.parse(JSON.stringify(reply, replacer), reviver));
const { state: _state, ...stateless } = reply;
const statelessText = JSON.stringify(stateless, replacer);
const jsonStateless = await timeEach(() => JSON.parse(JSON.stringify(stateless)));
await sandbox.close();

const row = (name: string, t: { p50: number; p99: number }) =>
  console.log(`${name.padEnd(44)} p50 ${t.p50.toFixed(1).padStart(7)} us   p99 ${t.p99.toFixed(1).padStart(8)} us`);
row('whole: sandbox.eval through an executor', whole);
row('channel: executor round trip, no guest', channel);
row('guest: binding eval in this thread', guest);
row(`reply JSON with state, replacer + reviver (${text.length} bytes)`, json);
row(`reply JSON, no state, plain (${statelessText.length} bytes)`, jsonStateless);
