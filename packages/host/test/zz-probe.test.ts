import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { rewriteModule } from '../src/engine/guest-image.js';
import { createWasiImports } from '../src/wasi/index.js';
import { OutputCapture } from '../src/wasi/output-capture.js';
test('probe', async () => {
  const dir = '/work/main/guest/python/artifact';
  const mods = new Map<string, WebAssembly.Module>();
  let segs: any[] = [];
  let pages = 0;
  for (const f of ['sandbox.core.wasm', 'sandbox.core2.wasm', 'sandbox.core3.wasm', 'sandbox.core4.wasm']) {
    const r = rewriteModule(readFileSync(`${dir}/${f}`));
    if (r.definedMemoryPages) {
      segs = r.segments;
      pages = r.definedMemoryPages;
    }
    mods.set(f, await WebAssembly.compile(r.bytes));
  }
  const glue = await import(`${dir}/sandbox.js`);
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 320, shared: true } as any);
    const view = new Uint8Array(memory.buffer);
    for (const s of segs) view.set(s.bytes, s.offset);
    const tMem = performance.now() - t;
    const out = new OutputCapture(1 << 20);
    const imports = createWasiImports({
      mounts: [
        { guestPath: '/python', hostDir: `${dir}/tree0` },
        { guestPath: '/app', hostDir: `${dir}/tree1` },
      ],
      stdout: out,
      stderr: out,
      memoryLimitBytes: 320 * 65536,
    });
    t = performance.now();
    const ex = await glue.instantiate(
      (f: string) => mods.get(f),
      imports,
      (m: WebAssembly.Module, i: any) => {
        if (WebAssembly.Module.imports(m).some((x) => x.module === 'cs')) i = { ...i, cs: { memory } };
        return new WebAssembly.Instance(m, i);
      },
    );
    const tInst = performance.now() - t;
    t = performance.now();
    const first = ex.eval('2 + 2');
    const tFirst = performance.now() - t;
    ex.exec('x = 41');
    t = performance.now();
    for (let i = 0; i < 10000; i++) ex.eval('2 + 2');
    const per = ((performance.now() - t) / 10000) * 1000;
    let err = '';
    try {
      ex.exec('bytes(100*1024*1024)');
    } catch (e: any) {
      err = String(e.payload ?? e);
    }
    console.log({
      tMem,
      tInst,
      tFirst,
      first,
      per,
      x: ex.eval('x + 1'),
      err,
      shared: memory.buffer instanceof SharedArrayBuffer,
    });
  }
});
