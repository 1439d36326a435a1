/** The real Python artifact, instantiated in-process by our binding (no jco glue). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { instantiateGuest } from '../../src/binding/index.js';
import { createHost, loadTestGuest, run, start, value, type Running, type TestGuest } from './guests.js';

describe('the Python guest on our binding', () => {
  let test: TestGuest;
  let py: Running;
  beforeAll(async () => {
    test = await loadTestGuest('python');
    py = start(test);
  });
  const pythonTree = () => test.guest.mounts.find((m) => m.guestPath === '/python')!.hostDir;

  it('evaluates and keeps globals between calls', () => {
    expect(py.binding.eval('2 + 2')).toEqual({ ok: true, value: '4' });
    expect(py.binding.exec('def f(x):\n    return x * 21')).toEqual({ ok: true });
    expect(py.binding.eval('f(2)')).toEqual({ ok: true, value: '42' });
  });

  it('returns guest errors as data: the message, then U+001E and the traceback', () => {
    expect(py.binding.eval('x_undefined')).toEqual({
      ok: false,
      error:
        "NameError: name 'x_undefined' is not defined\u001e" +
        'Traceback (most recent call last):\n' +
        '  File "<eval>", line 1, in <module>\n' +
        '    x_undefined\n' +
        "NameError: name 'x_undefined' is not defined",
    });
    expect(py.binding.exec('1 +')).toMatchObject({ ok: false, error: expect.stringMatching(/^SyntaxError/) });
  });

  it('writes print output to the host sinks', () => {
    py.stdout.take();
    run(py.binding, 'import sys\nprint("hi")\nprint("warn", file=sys.stderr)');
    expect(py.stdout.take().text).toBe('hi\n');
    expect(py.stderr.take().text).toBe('warn\n');
  });

  it('reads files and directories of the read-only tree', () => {
    const osSource = readFileSync(join(pythonTree(), 'os.py'), 'utf8');
    expect(value(py.binding, "open('/python/os.py').read(10)")).toBe(osSource.slice(0, 10));
    expect(value(py.binding, "sorted(__import__('os').listdir('/python'))")).toEqual(readdirSync(pythonTree()).sort());
    run(py.binding, 'import zipfile, json');
    expect(value(py.binding, 'json.dumps({"a": [1]})')).toBe('{"a": [1]}');
  });

  it('refuses writes with a read-only OSError', () => {
    const result = py.binding.exec("open('/python/x', 'w')");
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^OSError: .*Read-only file system/) });
  });

  it('raises MemoryError at the memory limit and stays usable', () => {
    const result = py.binding.exec('b = bytes(10**9)');
    expect(result.ok).toBe(false);
    // The message, then U+001E and the traceback.
    expect(!result.ok && result.error.split('\u001e')[0]).toBe('MemoryError');
    expect(py.binding.eval('2 + 2')).toEqual({ ok: true, value: '4' });
  });

  it('sleeps, reads the clocks and gets random bytes', () => {
    const started = performance.now();
    run(py.binding, 'import time; time.sleep(0.01)');
    expect(performance.now() - started).toBeGreaterThanOrEqual(10);
    expect(value(py.binding, 'time.time() > 1.7e9')).toBe(true);
    const r = value(py.binding, '__import__("random").random()') as number;
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
    expect(value(py.binding, 'len(__import__("os").urandom(100000))')).toBe(100000);
  });

  it('cleans up handles: an opened and closed file leaves the tables as they were', () => {
    const before = py.binding.tables.size;
    run(py.binding, "with open('/python/os.py') as f: f.read(100)");
    expect(py.binding.tables.size).toBe(before);
  });

  it('handles strings that need more than one UTF-8 byte per character', () => {
    expect(value(py.binding, '"é€😀" * 2')).toBe('é€😀é€😀');
    expect(value(py.binding, 'len("é€😀")')).toBe(3);
  });

  it('refuses a guest whose imports the host does not provide, naming the interface', () => {
    const { host } = createHost(test.guest);
    delete (host as Record<string, unknown>)['wasi:random/random'];
    expect(() => instantiateGuest({ modules: test.modules, host })).toThrow(
      /the guest imports wasi:random\/random, which this host does not provide/,
    );
  });
});
