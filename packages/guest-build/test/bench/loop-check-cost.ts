/**
 * What the hard-stop checks cost: runs tools/bench's guest-speed kernels on artifacts without
 * and with the checks, in one process, interleaved, on shared memory (as the round-2 host runs
 * guests). Not a test; run by hand:
 *
 *   nice -n 10 npx tsx test/bench/loop-check-cost.ts <artifact without checks> <language> [rounds]
 *
 * It derives the variants from the artifact without checks (same bytes otherwise): `atomic`
 * (what guest-build ships) and `plain` (an ordinary i32.load, for comparison).
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { HARD_STOP_VALUE, insertHardStopChecks } from '../../src/interrupt.js';
import { insertLoopChecks } from '../../src/wasm/loop-checks.js';
import { instantiateShared } from '../support/shared-instance.js';

const [baseArtifact, language = 'python', roundsText = '7', warmupText = '2'] = process.argv.slice(2);
if (!baseArtifact) {
  throw new Error('usage: loop-check-cost.ts <artifact without checks> <python|javascript> [rounds] [warm-up rounds]');
}
const rounds = Number(roundsText);
const warmup = Number(warmupText);
// As tools/bench runs the host (tuneForLongRuns): optimised code sooner.
setFlagsFromString('--wasm-tiering-budget=20000');
const kernelsDir = fileURLToPath(new URL(`../../../../tools/bench/kernels/${language}/`, import.meta.url));
const ext = language === 'python' ? '.py' : '.js';
const kernels = (await readdir(kernelsDir)).filter((f) => f.endsWith(ext)).sort();

/** A copy of the artifact whose memory-using core modules have the checks (at a zero word). */
async function variant(name: string, atomic: boolean): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), `loop-cost-${name}-`)), 'artifact');
  await cp(baseArtifact!, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    coreModules: Array<{ file: string }>;
  };
  const files: Record<string, Uint8Array> = {};
  for (const m of manifest.coreModules) files[m.file] = await readFile(join(dir, m.file));
  // insertHardStopChecks picks the modules; re-run with the chosen load kind on those.
  const picked = insertHardStopChecks(files, { hardStopAddress: 0x400 });
  for (const file of Object.keys(picked.loops)) {
    const out = insertLoopChecks(files[file]!, { address: 0x400, value: HARD_STOP_VALUE, atomic });
    await writeFile(join(dir, file), out.bytes);
  }
  return dir;
}

const variants: Array<[string, string]> = [
  ['none', baseArtifact],
  ['atomic', await variant('atomic', true)],
  ['plain', await variant('plain', false)],
];
const instances = new Map<string, Awaited<ReturnType<typeof instantiateShared>>>();
for (const [name, dir] of variants) instances.set(name, await instantiateShared(dir));

const times = new Map<string, number[]>();
for (let round = 0; round < warmup + rounds; round++) {
  for (const kernel of kernels) {
    const source = await readFile(join(kernelsDir, kernel), 'utf8');
    // Rotate the order each round so no variant always runs first.
    const order = variants.map(([n]) => n);
    for (let i = 0; i < round % order.length; i++) order.push(order.shift()!);
    for (const name of order) {
      const instance = instances.get(name)!;
      // CPU time of the process (this thread does all the work once the code is optimised):
      // on a shared machine it is far less disturbed than wall time by other processes.
      const started = process.cpuUsage();
      instance.exec(source);
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      const key = `${kernel}\t${name}`;
      if (round < warmup) continue;
      times.set(key, [...(times.get(key) ?? []), ms]);
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `kernel\tnone CPU ms (median, min)\tatomic\tplain\tatomic/none\tplain/none (median of per-round ratios; ${rounds} rounds)`,
);
for (const kernel of kernels) {
  const [none, atomic, plain] = ['none', 'atomic', 'plain'].map((n) => times.get(`${kernel}\t${n}`)!);
  const fmt = (xs: number[]) => `${median(xs).toFixed(1)}, ${Math.min(...xs).toFixed(1)}`;
  // Runs of one round ran back to back, under the same load: compare them pairwise.
  const ratio = (xs: number[]) => `${((median(xs.map((x, i) => x / none![i]!)) - 1) * 100).toFixed(1)}%`;
  console.log(`${kernel}\t${fmt(none!)}\t${fmt(atomic!)}\t${fmt(plain!)}\t${ratio(atomic!)}\t${ratio(plain!)}`);
}
for (const [, dir] of variants.slice(1)) await rm(join(dir, '..'), { recursive: true, force: true });
process.exit(0);
