/**
 * Moving a live sandbox: handle tables as data, plus (with the engine's rewritten modules, whose
 * memory is an import and whose globals are exported) memory contents and globals. A second
 * binding over a copy of the memory carries on exactly where the first left off.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  instantiateGuest,
  restoreGlobals,
  restoreTables,
  saveGlobals,
  type SerializedTables,
} from '../../src/binding/index.js';
import { createGuestMemory, prepareEngineGuest, type EngineGuest } from '../../src/engine/engine-guest.js';
import { createHost, loadTestGuest, MEMORY_LIMIT_PAGES, run, start, value, type TestGuest } from './guests.js';

/** A fresh shared memory with the same size and contents: what another thread or process gets. */
function copyMemory(memory: WebAssembly.Memory): WebAssembly.Memory {
  const copy = new WebAssembly.Memory({
    initial: memory.buffer.byteLength / 65536,
    maximum: MEMORY_LIMIT_PAGES,
    shared: true,
  });
  new Uint8Array(copy.buffer).set(new Uint8Array(memory.buffer));
  return copy;
}

describe('handle tables as data', () => {
  let test: TestGuest;
  beforeAll(async () => {
    test = await loadTestGuest('python');
  });

  it('describes open files, streams and the standard streams, and restores them equal', () => {
    const py = start(test);
    run(py.binding, "f = open('/python/os.py', 'rb', buffering=0)\nf.read(5)");
    const snapshot = py.binding.snapshotTables();
    expect(structuredClone(snapshot)).toEqual(snapshot);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);

    const states = snapshot.tables.flatMap((t) => t.handles.map((h) => ({ resource: t.resource, ...h.state })));
    expect(states).toContainEqual(
      expect.objectContaining({ resource: 'wasi:filesystem/types/descriptor', mount: '/python', path: 'os.py' }),
    );
    expect(states).toContainEqual(
      expect.objectContaining({ resource: 'wasi:filesystem/types/descriptor', mount: '/python', path: '' }),
    );
    expect(states).toContainEqual({ resource: 'wasi:io/streams/output-stream', kind: 'stdio', role: 'stdout' });

    const { host } = createHost(test.guest);
    const restored = restoreTables(snapshot, host);
    expect(restored.size).toBe(snapshot.tables.reduce((n, t) => n + t.handles.length, 0));
    // Same handles, same descriptions, over the fresh host's objects.
    const again = instantiateGuest({ modules: test.modules, host, tables: snapshot }).snapshotTables();
    expect(again).toEqual(snapshot);
  });

  it('continues a file stream from its offset after restore', () => {
    const py = start(test);
    run(py.binding, "f = open('/python/os.py', 'rb', buffering=0)\nf.read(5)");
    const snapshot = py.binding.snapshotTables();
    const streams = snapshot.tables.find((t) => t.resource === 'wasi:io/streams/input-stream')!;
    const fileStream = streams.handles.find((h) => h.state.kind === 'input-stream')!;
    const { host } = createHost(test.guest);
    const tables = restoreTables(snapshot, host);
    const stream = tables
      .table({ id: streams.resource, name: 'input-stream', className: 'InputStream' })
      .get(fileStream.index) as { read(n: bigint): Uint8Array };
    const osSource = readFileSync(join(test.guest.mounts[0]!.hostDir, 'os.py'));
    const offset = (fileStream.state as { source: { offset: number } }).source.offset;
    expect(Buffer.from(stream.read(5n))).toEqual(osSource.subarray(offset, offset + 5));
  });

  it('refuses to restore a descriptor of a mount this host does not have', () => {
    const py = start(test);
    run(py.binding, "f = open('/python/os.py', 'rb', buffering=0)");
    const snapshot = py.binding.snapshotTables();
    const { host } = createHost({ ...test.guest, mounts: [] });
    expect(() => restoreTables(snapshot, host)).toThrow(/this host does not mount it/);
  });

  it('saves and restores zero globals on unmodified modules', () => {
    const py = start(test);
    expect(saveGlobals(py.binding.instances)).toEqual([]);
    expect(() => restoreGlobals(py.binding.instances, [])).not.toThrow();
  });
});

describe('a sandbox moved to a second binding (rewritten modules, shared memory)', () => {
  let test: TestGuest;
  let engineGuest: EngineGuest;
  let modules: Map<string, WebAssembly.Module>;
  beforeAll(async () => {
    test = await loadTestGuest('python');
    engineGuest = await prepareEngineGuest(test.guest);
    modules = new Map(engineGuest.modules);
  });

  function moved(from: ReturnType<typeof start>): ReturnType<typeof start> {
    const tables: SerializedTables = structuredClone(from.binding.snapshotTables());
    const globals = saveGlobals(from.binding.instances);
    const to = start(test, { modules, memory: copyMemory(from.binding.memory), tables });
    restoreGlobals(to.binding.instances, globals);
    return to;
  }

  it('keeps globals, open files and read positions', () => {
    const a = start(test, { modules, memory: createGuestMemory(engineGuest, MEMORY_LIMIT_PAGES) });
    expect(saveGlobals(a.binding.instances).length).toBeGreaterThan(0);
    run(
      a.binding,
      [
        'import os',
        'x = 41',
        "raw = open('/python/os.py', 'rb', buffering=0)",
        'first_raw = raw.read(5)',
        "text = open('/python/os.py')",
        'first_text = text.read(5)',
        "entries = os.scandir('/python')",
        'first_entry = next(entries).name',
      ].join('\n'),
    );
    const b = moved(a);
    const osSource = readFileSync(join(test.guest.mounts[0]!.hostDir, 'os.py'), 'latin1');
    expect(value(b.binding, 'x + 1')).toBe(42);
    expect(value(b.binding, 'raw.read(5).decode()')).toBe(osSource.slice(5, 10));
    expect(value(b.binding, 'text.read(5)')).toBe(osSource.slice(5, 10));
    const names = value(b.binding, '[first_entry] + [e.name for e in entries]') as string[];
    expect(names.sort()).toEqual(readdirSync(test.guest.mounts[0]!.hostDir).sort());
    // The original carries on independently: this was a fork.
    expect(value(a.binding, 'raw.read(5).decode()')).toBe(osSource.slice(5, 10));
  });

  it('moves the JavaScript guest too (its main module imports wasi:io directly)', async () => {
    const jsTest = await loadTestGuest('javascript');
    const jsGuest = await prepareEngineGuest(jsTest.guest);
    const jsModules = new Map(jsGuest.modules);
    const host = createHost(jsTest.guest);
    const a = instantiateGuest({
      modules: jsModules,
      host: host.host,
      memory: createGuestMemory(jsGuest, MEMORY_LIMIT_PAGES),
    });
    expect(a.exec('var kept = [1, 2, 3]; console.log("a")')).toEqual({ ok: true });
    const other = createHost(jsTest.guest);
    const b = instantiateGuest({
      modules: jsModules,
      host: other.host,
      memory: copyMemory(a.memory),
      tables: a.snapshotTables(),
    });
    restoreGlobals(b.instances, saveGlobals(a.instances));
    expect(b.eval('kept.concat(4)')).toEqual({ ok: true, value: '[1,2,3,4]' });
    expect(b.exec('console.log("b")')).toEqual({ ok: true });
    expect(other.stdout.take().text).toBe('b\n');
  });
});
