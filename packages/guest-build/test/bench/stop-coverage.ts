/**
 * Which constructs each stop catches: runs each snippet, sends the soft stop after 300 ms, and
 * the hard stop 1.5 s later if the call is still running. Not a test; run by hand:
 *
 *   npx tsx test/bench/stop-coverage.ts <python artifact>
 */
import { instantiateShared } from '../support/shared-instance.js';
import { armStopper, now } from '../support/stopper.js';

const artifact = process.argv[2]!;
const snippets = [
  'while True: pass',
  'import time\nwhile True: time.sleep(0.01)',
  'import time\ntime.sleep(3)',
  'import re\nre.match(r"(a+)+$", "a" * 40 + "b")',
  'sum(x for x in range(10**12))',
  'sum(range(10**12))',
  'x = 10**10**8',
  'import itertools\nfor _ in itertools.count(): pass',
  'sorted(range(10**7), key=lambda v: -v)',
  'list(map(abs, range(10**8)))',
  'while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass',
  '"a" * 10**8 + "b" in "a" * 10**8',
  'import json\njson.dumps(list(range(10**7)))',
];
for (const code of snippets) {
  const py = await instantiateShared(artifact);
  const { hardStop, python } = py.manifest.interrupt!;
  py.exec('x0 = 1');
  const soft = await armStopper(
    py.memory,
    [
      { op: 'store', address: python!.asyncExcAddress, value: python!.exceptionAddress },
      { op: 'or', address: python!.evalBreakerAddress, value: 1 << python!.asyncExceptionBit },
    ],
    300,
  );
  const hard = await armStopper(py.memory, [{ op: 'store', address: hardStop.address, value: hardStop.value }], 1800);
  soft.go();
  hard.go();
  let outcome: string;
  try {
    py.exec(code);
    outcome = 'returned';
  } catch (error) {
    outcome = error instanceof WebAssembly.RuntimeError ? `trap (${error.message})` : `err ${String(error)}`;
  }
  const end = now();
  const softAt = await soft.wroteAt;
  const hardAt = await hard.wroteAt.catch(() => NaN);
  const by =
    end < hardAt
      ? `${(end - softAt).toFixed(1)} ms after the soft stop`
      : `${(end - hardAt).toFixed(1)} ms after the HARD stop`;
  console.log(`${JSON.stringify(code)}\n    -> ${outcome}, ${by}`);
}
process.exit(0);
