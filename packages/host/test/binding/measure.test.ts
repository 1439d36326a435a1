/**
 * Measures (and prints) what the binding is for: instantiation per instance and the cost of a
 * call, against jco's generated glue on the same compiled modules, in this process. Timing
 * assertions are loose: the numbers are for the report, the checks only catch regressions by
 * an order of magnitude.
 */
import { describe, expect, it } from 'vitest';
import type { SandboxExports } from '@component-sandbox/wit';
import { instantiateGuest } from '../../src/binding/index.js';
import { createGuestMemory, prepareEngineGuest } from '../../src/engine/engine-guest.js';
import { MEMORY_LIMIT_PAGES, createHost, loadTestGuest, type TestGuest } from './guests.js';

type Glue = {
  instantiate: (
    getCoreModule: (file: string) => WebAssembly.Module,
    imports: object,
    instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
  ) => Promise<SandboxExports>;
};

async function viaGlue(test: TestGuest): Promise<SandboxExports> {
  const glue = (await import(test.guest.glueUrl)) as Glue;
  // The guests are built for world sandbox-extended: the glue wants its host interface too.
  const hostFunctions = {
    functionsVersion: () => 0,
    functionNames: () => [],
    call: () => {
      throw 'no host functions';
    },
  };
  return glue.instantiate(
    (file) => test.modules.get(file)!,
    { ...createHost(test.guest).host, 'component-sandbox:sandbox/host': hostFunctions },
    (module, imports) => new WebAssembly.Instance(module, imports),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeEach(count: number, action: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Microseconds per call of each contender. Both run the same compiled module, whose functions
 * V8 tiers up as they run, shared by every instance: so all contenders warm up first, then run
 * in interleaved rounds, and each keeps its best round (the least disturbed by other load).
 */
function perCallMicroseconds(calls: number, contenders: Record<string, () => unknown>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const call of Object.values(contenders)) for (let i = 0; i < 3000; i++) call();
  for (let round = 0; round < 5; round++) {
    for (const [name, call] of Object.entries(contenders)) {
      const started = performance.now();
      for (let i = 0; i < calls; i++) call();
      const us = ((performance.now() - started) * 1000) / calls;
      best[name] = Math.min(best[name] ?? Infinity, us);
    }
  }
  return best;
}

describe.each(['python', 'javascript'] as const)('%s: binding vs jco glue', (language) => {
  it('instantiates faster and calls no slower', async () => {
    const test = await loadTestGuest(language);
    const expression = '2 + 2';
    await viaGlue(test); // the glue module's own import and compile, once per process
    const glueMs = await timeEach(10, () => viaGlue(test));
    const bindingMs = await timeEach(10, () =>
      instantiateGuest({ modules: test.modules, host: createHost(test.guest).host }),
    );

    // The engine's way: rewritten modules over a memory that already holds the guest's image,
    // so instantiation copies no data segments (memory creation is timed apart).
    const engineGuest = await prepareEngineGuest(test.guest);
    const rewritten = new Map(engineGuest.modules);
    const memories = Array.from({ length: 10 }, () => createGuestMemory(engineGuest, MEMORY_LIMIT_PAGES));
    const overMemoryMs = await timeEach(10, () =>
      instantiateGuest({ modules: rewritten, host: createHost(test.guest).host, memory: memories.pop()! }),
    );
    const memoryMs = await timeEach(10, () => createGuestMemory(engineGuest, MEMORY_LIMIT_PAGES));

    const glue = await viaGlue(test);
    const binding = instantiateGuest({ modules: test.modules, host: createHost(test.guest).host });
    const { glue: glueCallUs, binding: bindingCallUs } = perCallMicroseconds(1000, {
      glue: () => glue.eval(expression),
      binding: () => binding.eval(expression),
    }) as { glue: number; binding: number };

    console.log(
      `${language}: instantiate median ${bindingMs.toFixed(2)} ms (binding) vs ${glueMs.toFixed(2)} ms (glue); ` +
        `${overMemoryMs.toFixed(2)} ms over a prepared shared memory (+${memoryMs.toFixed(2)} ms to make one); ` +
        `eval("${expression}") ${bindingCallUs.toFixed(1)} µs (binding) vs ${glueCallUs.toFixed(1)} µs (glue)`,
    );
    expect(binding.eval(expression)).toEqual({ ok: true, value: '4' });
  });
});
